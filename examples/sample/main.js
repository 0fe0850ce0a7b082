// espruino-ota sample app: copy this file, put your code in app(), and flash it:
//
//   npm run flash -- --board ESP32 --port /dev/ttyUSB0 --wifi "myssid:mypassword" \
//     --host http://192.168.2.100:8080 --project sample --files .bootcde main.js
//
// flash stores it as .bootcde (it runs at every boot), the ota module as Storage "ota",
// the Wi-Fi credentials as Storage "wifi.json" and the update settings as "ota.json".
// At boot it joins Wi-Fi, then update() installs a new release if the server has one
// (the board then resets into it); otherwise the app starts, and check() asks the server
// every CHECK_EVERY ms, resetting into update() when a new version is published.
// Espruino runs ES5 (plus a little ES6): no async/await, classes only if not minified.
var S = require("Storage");
var OTA = S.readJSON("ota.json", 1) || {
  host: "http://192.168.2.100:8080", // your server: npm run serve -- --root <dir> --host 0.0.0.0
  project: "sample",
  files: [".bootcde"], // the Storage files a release is made of
};
var WIFI = S.readJSON("wifi.json", 1); // {"ssid", "password"}; absent: the firmware's saved Wi-Fi
var CHECK_EVERY = 10 * 60 * 1000;

function app() {
  // ---- your application starts here ----
  print("sample app running, release " + (require("ota").version() || "as flashed"));
}

// Calls cb once the board has an IP address.
function whenOnline(cb) {
  var W, done = false;
  function go() {
    if (!done) { done = true; cb(); }
  }
  try { W = require("Wifi"); } catch (e) { return go(); } // no Wifi module (Linux build): online
  W.on("connected", go);
  if (WIFI) {
    W.connect(WIFI.ssid, { password: WIFI.password }, function (err) {
      if (err) print("Wi-Fi: " + err + " (still trying)");
      else go();
    });
  } else {
    var ip = W.getIP();
    if (ip && ip.ip && ip.ip != "0.0.0.0") go();
  }
}

whenOnline(function () {
  require("ota").update(OTA, function (err, r) {
    if (err) print("OTA update: " + err.code + " " + err.message); // the old release keeps running
    if (r && r.updated) return; // resetting into the new release
    app();
    // Healthy: Wi-Fi is up, the server answered and the app started: keep this release.
    // Until then a new release is on trial: an uncaught exception, or 3 starts without
    // confirm(), brings the previous one back (after confirmAfter, 60 s, it is kept anyway).
    if (!err) require("ota").confirm();
    setInterval(function () {
      require("ota").check(OTA, function (err) {
        if (err) print("OTA check: " + err.code + " " + err.message);
      });
    }, CHECK_EVERY);
  });
});
