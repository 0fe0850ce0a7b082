// modules/formats.ts
var BOOT = ".boot0";
var STATE = ".otav";
var JOURNAL = ".otaj";
var STAGE = ".ota_";
var COMPACT = ".otac";
function isStage(n) {
    return n.indexOf(STAGE) == 0;
}
var MAX_NAME = 28;
var MAX_VERSION = 64;
var VERSION_RE = /^[A-Za-z0-9._+-]+$/;
var LAYOUTS = [
    "prefix",
    "subdir"
];
var E_OPTS = "EOPTS";
var E_BUSY = "EBUSY";
var E_NET = "ENET";
var E_TIMEOUT = "ETIMEOUT";
var E_HTTP = "EHTTP";
var E_REDIRECT = "EREDIRECT";
var E_VERSION = "EVERSION";
var E_SIZE = "ESIZE";
var E_NAME = "ENAME";
var E_SPACE = "ENOSPC";
var E_FLASH = "EFLASH";
var MAX_REDIRECTS = 3;
var DEFAULT_TIMEOUT = 5e3;
function versionError(v) {
    if (!v) return "is empty";
    if (v.length > MAX_VERSION) return "is longer than " + MAX_VERSION + " characters";
    if (!VERSION_RE.test(v)) return "may only hold A-Z a-z 0-9 . _ + -";
    return "";
}
function nameError(n) {
    if (typeof n != "string" || !n) return "is empty";
    if (n.length > MAX_NAME) return "is longer than " + MAX_NAME + " characters";
    if (n.charAt(1) == ":") return "has ':' as its second character";
    if (n.indexOf("\n") >= 0) return "holds a newline";
    if (n == BOOT || n.indexOf(".ota") == 0) return "is reserved for the updater";
    return "";
}
function versionUrl(host, project) {
    return host + "/" + project + "/version";
}
function filePath(project, ver, name, layout) {
    return project + "/" + ver + (layout == "subdir" ? "/" : "_") + name;
}
function fileUrl(host, project, ver, name, layout) {
    return host + "/" + filePath(project, ver, encodeURIComponent(name), layout);
}
var H_VERSION = "X-Ota-V";
var H_BOARD = "X-Ota-B";
var H_FIRMWARE = "X-Ota-F";
var H_ID = "X-Ota-Id";
// modules/ota.ts
var S = require("Storage");
var BOOT_CODE = '!function(){var e,r,a,t,o,f=".otaj",i=".ota_",n=".otac",d=require("Storage"),c=d.readJSON(f,1);if(c&&c.f){for(o=0;o<c.f.length;o++)if(e=i+o,r=c.f[o],d.read(r)!==d.read(e))for(a=d.read(e).length,t=0;t<a;t+=256)d.write(r,d.read(e,t,256),t,a);d.writeJSON(".otav",{v:c.v,p:c.p}),d.erase(f)}d.list().forEach(function(e){(function(e){return 0==e.indexOf(i)})(e)&&d.erase(e)}),void 0!==d.read(n)&&(d.erase(n),d.compact())}();';
var busy = false;
function fail(code, msg) {
    var e = new Error("ota: " + msg);
    e.code = code;
    return e;
}
function room(n) {
    return 32 + (n + 3 & ~3);
}
function version() {
    var s = S.readJSON(STATE, 1);
    return s && s.v;
}
function prepare(o) {
    if (!o || !o.host || !o.project) return fail(E_OPTS, "opts.host and opts.project are required");
    if (!o.user != !o.password) return fail(E_OPTS, "give both opts.user and opts.password, or neither");
    if (o.layout && LAYOUTS.indexOf(o.layout) < 0) return fail(E_OPTS, 'opts.layout must be "prefix" or "subdir"');
    if (o.reset && [
        "hard",
        "soft",
        "none"
    ].indexOf(o.reset) < 0) return fail(E_OPTS, 'opts.reset must be "hard", "soft" or "none"');
    var h = {};
    if (o.user) h.Authorization = "Basic " + btoa(o.user + ":" + o.password);
    var v = version();
    if (v) h[H_VERSION] = v;
    h[H_BOARD] = process.env.BOARD;
    h[H_FIRMWARE] = process.env.VERSION;
    if (typeof getSerial == "function") h[H_ID] = getSerial();
    return {
        o: o,
        h: h,
        v: v,
        t: o.timeout || DEFAULT_TIMEOUT
    };
}
function get(c, u, head, data, done, hops) {
    hops = hops || 0;
    var req, len = -1, n = 0, over = false, timer = 0, loc;
    function stopTimer() {
        if (timer) clearTimeout(timer);
        timer = 0;
    }
    function end(err) {
        if (over) return;
        over = true;
        stopTimer();
        if (req) req.clsNow = true;
        setTimeout(function() {
            if (!err && loc) return get(c, loc, head, data, done, hops + 1);
            done(err, n);
        }, 1);
    }
    function arm() {
        stopTimer();
        timer = setTimeout(function() {
            timer = 0;
            end(fail(E_TIMEOUT, "no data from " + u + " for " + c.t + " ms"));
        }, c.t);
    }
    var p = url.parse(u);
    p.headers = c.h;
    arm();
    try {
        req = require("http").get(p, function(res) {
            arm();
            var st = res.statusCode, h = res.headers, k;
            if (st != "200") {
                if ([
                    "301",
                    "302",
                    "303",
                    "307",
                    "308"
                ].indexOf(st) < 0) return end(fail(E_HTTP, "HTTP " + st + " for " + u));
                for(k in h)if (k.toLowerCase() == "location") loc = h[k];
                if (!loc || hops >= MAX_REDIRECTS) return end(fail(E_REDIRECT, "too many redirects, or none with a Location, at " + u));
                if (loc.charAt(0) == "/") loc = u.match(/^[a-z]+:\/\/[^\/]*/)[0] + loc;
                return end();
            }
            for(k in h)if (k.toLowerCase() == "content-length") len = +h[k];
            var _$e = head(len);
            if (_$e) return end(_$e);
            res.on("data", function(d) {
                if (over) return;
                arm();
                if (len >= 0 && n + d.length > len) return end(fail(E_SIZE, u + " sent more than its Content-Length of " + len));
                _$e = data(d, n);
                n += d.length;
                if (_$e) end(_$e);
            });
            res.on("close", function() {
                if (len >= 0 && n != len) return end(fail(E_SIZE, u + " ended after " + n + " of " + len + " bytes"));
                end();
            });
        });
        req.on("error", function(e) {
            if (e.code != -30848) end(fail(E_NET, (e.message || "error " + e.code) + " from " + u));
        });
    } catch (e) {
        end(fail(E_NET, e.message + " (" + u + ")"));
    }
}
function latest(c, done) {
    var u = versionUrl(c.o.host, c.o.project), s = "";
    get(c, u, function() {}, function(d) {
        s += d;
        if (s.length > 200) return fail(E_VERSION, "version file at " + u + " is too long");
    }, function(err) {
        if (err) return done(err);
        s = s.trim();
        var why = versionError(s);
        if (why) return done(fail(E_VERSION, "version file at " + u + " " + why + ': "' + s.substr(0, 64) + '"'));
        done(null, s);
    });
}
function reset(o) {
    setTimeout(function() {
        if (o.reset == "soft") load();
        else if (o.reset != "none") E.reboot();
    }, 100);
}
function run(cb, job) {
    var p = new Promise(function(ok, no) {
        if (busy) return no(fail(E_BUSY, "an update or check is already running"));
        busy = true;
        job(function(err, r) {
            busy = false;
            if (err) no(err);
            else ok(r);
        });
    });
    if (cb) p.then(function(r) {
        cb(null, r);
    }, cb);
    return p;
}
function check(o, cb) {
    return run(cb, function(done) {
        var c = prepare(o);
        if (!c.o) return done(c);
        latest(c, function(err, l) {
            if (err) return done(err);
            var r = {
                available: l != c.v,
                installed: c.v,
                latest: l
            };
            done(null, r);
            if (r.available) reset(o);
        });
    });
}
function update(o, cb) {
    return run(cb, function(done) {
        var c = prepare(o);
        if (!c.o) return done(c);
        var files = o.files, i, why;
        if (!files || !files.length) return done(fail(E_OPTS, "opts.files must list the Storage files of a release"));
        for(i = 0; i < files.length; i++){
            why = nameError(files[i]);
            if (why) return done(fail(E_NAME, 'file name "' + files[i] + '" ' + why));
            if (files.indexOf(files[i]) != i) return done(fail(E_NAME, 'file "' + files[i] + '" is listed twice'));
        }
        var j = S.readJSON(JOURNAL, 1);
        if (j && j.f) {
            done(null, {
                updated: true,
                version: j.v,
                previous: j.p
            });
            return reset(o);
        }
        function clean() {
            S.list().forEach(function(f) {
                if (isStage(f)) S.erase(f);
            });
        }
        function stop(err) {
            clean();
            done(err);
        }
        latest(c, function(err, ver) {
            if (err) return done(err);
            if (ver == c.v) return done(null, {
                updated: false,
                version: ver,
                previous: S.readJSON(STATE, 1).p
            });
            try {
                if (S.read(BOOT) != BOOT_CODE) S.write(BOOT, BOOT_CODE);
            } catch (e) {
                return done(fail(E_FLASH, "cannot write the boot stage: " + e.message));
            }
            clean();
            var need = room(64 * files.length + 100) + room(200);
            var k = 0;
            function next() {
                if (k == files.length) return commit();
                var name = STAGE + k, size = 0;
                get(c, fileUrl(o.host, o.project, ver, files[k], o.layout), function(len) {
                    if (len <= 0) return fail(E_SIZE, files[k] + ": the server must send a Content-Length, and the file must not be empty");
                    need += room(len);
                    var free = S.getFree();
                    if (free < need + room(len)) {
                        var st = S.getStats();
                        if (st.freeBytes + st.trashBytes >= need + room(len)) S.write(COMPACT, "1");
                        return fail(E_SPACE, "release needs " + (need + room(len)) + " bytes of Storage, " + free + " are free" + (st.trashBytes ? "; Storage is compacted at the next boot" : ""));
                    }
                    size = len;
                }, function(d, at) {
                    try {
                        S.write(name, d, at, size);
                    } catch (e) {
                        return fail(E_FLASH, "writing " + files[k] + ": " + e.message);
                    }
                    if (o.onProgress) o.onProgress(files[k], at + d.length, size);
                }, function(err2, n) {
                    if (err2) return stop(err2);
                    if (n != size || S.read(name).length != size) return stop(fail(E_SIZE, files[k] + " was not stored whole"));
                    k++;
                    next();
                });
            }
            function commit() {
                try {
                    S.writeJSON(JOURNAL, {
                        v: ver,
                        p: c.v,
                        f: files
                    });
                } catch (e) {
                    S.erase(JOURNAL);
                    return stop(fail(E_FLASH, "cannot write the install journal: " + e.message));
                }
                done(null, {
                    updated: true,
                    version: ver,
                    previous: c.v
                });
                reset(o);
            }
            next();
        });
    });
}
exports.update = update;
exports.check = check;
exports.version = version;
