// modules/formats.ts

function isStage(n) {
    return n.indexOf(".ota_") == 0;
}

var VERSION_RE = /^[A-Za-z0-9._+-]+$/;
var LAYOUTS = [
    "prefix",
    "subdir"
];

function versionError(v) {
    if (!v) return "is empty";
    if (v.length > 64) return "is longer than " + 64 + " characters";
    if (!VERSION_RE.test(v)) return "may only hold A-Z a-z 0-9 . _ + -";
    return "";
}
function nameError(n) {
    if (typeof n != "string" || !n) return "is empty";
    if (n.length > 28) return "is longer than " + 28 + " characters";
    if (n.charAt(1) == ":") return "has ':' as its second character";
    if (n.indexOf("\n") >= 0) return "holds a newline";
    if (n == ".boot0" || n == ".bootPowerOn" || n.indexOf(".ota") == 0) return "is reserved for the updater";
    return "";
}

function versionUrl(host, project) {
    return host + "/" + project + "/" + "version";
}
function filePath(project, ver, name, layout) {
    return project + "/" + ver + (layout == "subdir" ? "/" : "_") + name;
}
function fileUrl(host, project, ver, name, layout) {
    return host + "/" + filePath(project, ver, encodeURIComponent(name), layout);
}

var HEX_RE = /^[0-9a-f]+$/;
function hexError(v, n) {
    return typeof v != "string" || v.length != n || !HEX_RE.test(v);
}
function manifestError(m) {
    if (!m) return "is not JSON";
    if (typeof m.version != "string" || versionError(m.version)) return 'has no valid "version"';
    var fs = m.files, i, f, why;
    if (!Array.isArray(fs) || !fs.length) return 'has no "files"';
    for(i = 0; i < fs.length; i++){
        f = fs[i] || {};
        why = nameError(f.name);
        if (why) return "names a file that " + why + ': "' + f.name + '"';
        for(var j = 0; j < i; j++)if (fs[j].name == f.name) return 'names "' + f.name + '" twice';
        if (typeof f.size != "number" || f.size < 1 || f.size % 1) return 'gives "' + f.name + '" no valid "size"';
        if (hexError(f.sha256, 64) || hexError(f.sha1, 40)) return 'gives "' + f.name + '" no valid "sha256" and "sha1"';
        if (typeof f.crc32 != "number" || f.crc32 < 0 || f.crc32 > 4294967295 || f.crc32 % 1) return 'gives "' + f.name + '" no valid "crc32"';
    }
    return "";
}
function canonical(version2, files) {
    var s = "espruino-ota manifest 1\n" + version2 + "\n";
    for(var i = 0; i < files.length; i++){
        var f = files[i];
        s += f.name + "\n" + f.size + " " + f.sha256 + " " + f.sha1 + " " + f.crc32 + "\n";
    }
    return s;
}
// modules/ota.ts
var S = require("Storage");
var busy = false;
function fail(code, msg) {
    var e = new Error("ota: " + msg);
    e.code = code;
    return e;
}
function room(n) {
    return 32 + (n + 3 & ~3);
}
function state() {
    return S.readJSON(".otav", 1) || {};
}
function version() {
    return state().v;
}
function confirm() {
    var p = S.read(".otan") !== void 0;
    if (p) S.erase(".otan");
    return p;
}
function status() {
    var st = state(), c = S.read(".otan") || "";
    return {
        version: st.v,
        previous: st.p,
        pending: !!c,
        boots: c.length - c.split("\xFF").length + 1,
        lastError: S.read(".otae")
    };
}
function prepare(o) {
    if (!o || !o.host || !o.project) return fail("EOPTS", "opts.host and opts.project are required");
    if (!o.user != !o.password) return fail("EOPTS", "give both opts.user and opts.password, or neither");
    if (o.layout && LAYOUTS.indexOf(o.layout) < 0) return fail("EOPTS", 'opts.layout must be "prefix" or "subdir"');
    if (o.reset && [
        "hard",
        "soft",
        "none"
    ].indexOf(o.reset) < 0) return fail("EOPTS", 'opts.reset must be "hard", "soft" or "none"');
    var h = {};
    if (o.user) h.Authorization = "Basic " + btoa(o.user + ":" + o.password);
    var st = state(), v = st.v;
    if (v) h["X-Ota-V"] = v;
    h["X-Ota-B"] = process.env.BOARD;
    h["X-Ota-F"] = process.env.VERSION;
    if (typeof getSerial == "function") h["X-Ota-Id"] = getSerial();
    return {
        o: o,
        h: h,
        st: st,
        v: v,
        t: o.timeout || 5e3
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
            end(fail("ETIMEOUT", "no data from " + u + " for " + c.t + " ms"));
        }, c.t);
    }
    var p = url.parse(u);
    p.headers = c.h;
    arm();
    try {
        req = require("http").get(p, function(res) {
            arm();
            var st = res.statusCode, h = res.headers, k, _$e;
            if (st != "200") {
                if ([
                    "301",
                    "302",
                    "303",
                    "307",
                    "308"
                ].indexOf(st) < 0) {
                    _$e = fail("EHTTP", "HTTP " + st + " for " + u);
                    _$e.status = st;
                    return end(_$e);
                }
                for(k in h)if (k.toLowerCase() == "location") loc = h[k];
                if (!loc || hops >= 3) return end(fail("EREDIRECT", "too many redirects, or none with a Location, at " + u));
                if (loc.charAt(0) == "/") loc = u.match(/^[a-z]+:\/\/[^\/]*/)[0] + loc;
                return end();
            }
            for(k in h)if (k.toLowerCase() == "content-length") len = +h[k];
            _$e = head(len);
            if (_$e) return end(_$e);
            res.on("data", function(d) {
                if (over) return;
                arm();
                if (len >= 0 && n + d.length > len) return end(fail("ESIZE", u + " sent more than its Content-Length of " + len));
                _$e = data(d, n);
                n += d.length;
                if (_$e) end(_$e);
            });
            res.on("close", function() {
                if (len >= 0 && n != len) return end(fail("ESIZE", u + " ended after " + n + " of " + len + " bytes"));
                end();
            });
        });
        req.on("error", function(e) {
            if (e.code != -30848) end(fail("ENET", (e.message || "error " + e.code) + " from " + u));
        });
    } catch (e) {
        end(fail("ENET", e.message + " (" + u + ")"));
    }
}
function latest(c, done) {
    var u = versionUrl(c.o.host, c.o.project), s = "";
    get(c, u, function() {}, function(d) {
        s += d;
        if (s.length > 200) return fail("EVERSION", "version file at " + u + " is too long");
    }, function(err) {
        if (err) return done(err);
        s = s.trim();
        var why = versionError(s);
        if (why) return done(fail("EVERSION", "version file at " + u + " " + why + ': "' + s.substr(0, 64) + '"'));
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
        if (busy) return no(fail("EBUSY", "an update or check is already running"));
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
                available: l != c.v && l != c.st.x,
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
        for(i = 0; files && i < files.length; i++){
            why = nameError(files[i]) || (files.indexOf(files[i]) < i ? "is listed twice" : "");
            if (why) return done(fail("ENAME", 'file name "' + files[i] + '" ' + why));
        }
        var C, H, HK = "crc32";
        try {
            C = require("crypto");
            H = C.SHA256 || C.SHA1;
            HK = C.SHA256 ? "sha256" : "sha1";
        } catch (e) {}
        if (o.key && !H) return done(fail("EOPTS", "this board has neither SHA-256 nor SHA-1, so it cannot check a signed release (opts.key)"));
        var j = S.readJSON(".otaj", 1);
        if (j && j.f) {
            done(null, {
                updated: true,
                version: j.v,
                previous: j.p
            });
            return reset(o);
        }
        var ver, m, sizes = [], k = 0, need;
        var st = c.st, T = st.s == "a" ? "b" : "a", keep = o.keep !== false;
        var maxBoots = o.maxBoots === void 0 ? 3 : o.maxBoots;
        function hex(ab) {
            var u = new Uint8Array(ab), h = "";
            for(var n = 0; n < u.length; n++)h += (u[n] < 16 ? "0" : "") + u[n].toString(16);
            return h;
        }
        function hmac(key, msg) {
            if (key.length > 64) key = E.toString(new Uint8Array(H(key)));
            var ip = "", op = "", n, b;
            for(n = 0; n < 64; n++){
                b = key.charCodeAt(n) || 0;
                ip += String.fromCharCode(b ^ 54);
                op += String.fromCharCode(b ^ 92);
            }
            return hex(H(op + E.toString(new Uint8Array(H(ip + msg)))));
        }
        function clean() {
            S.list().forEach(function(f) {
                if (isStage(f) && (!keep || f.charAt(".ota_".length) == T)) S.erase(f);
            });
        }
        function stop(err) {
            clean();
            done(err);
        }
        function space(bytes) {
            var free = S.getFree(), fs;
            if (free >= bytes) return;
            fs = S.getStats();
            if (fs.freeBytes + fs.trashBytes >= bytes) S.write(".otac", "1");
            return fail("ENOSPC", "release needs " + bytes + " bytes of Storage, " + free + " are free" + (fs.trashBytes ? "; Storage is compacted at the next boot" : "") + (keep && st.s ? "; keep: false drops the copy kept for a rollback" : ""));
        }
        latest(c, function(err, v) {
            if (err) return done(err);
            ver = v;
            if (ver == c.v) return done(null, {
                updated: false,
                version: ver,
                previous: st.p
            });
            if (ver == st.x) return done(fail("EREJECTED", ver + " was rolled back on this board (" + S.read(".otae") + "); publish a new version"));
            try {
                if (E.CRC32(S.read(".boot0") || "") != 796926922) S.write(".boot0", '(function(){var e,r,t,a,o,i,n=".otav",f=".otaj",d=".ota_",s=".otan",c=".otae",g=".otac",u=require("Storage"),v=u.readJSON(n,1)||{},h=u.readJSON(f,1),p=u.read(s);if(h&&h.f||void 0===p||!(p.indexOf("E")>=0||p.indexOf("\\xff")<0)||(v.o?u.writeJSON(f,h={v:v.p,p:v.v,s:v.o,f:v.g,g:v.f,k:1,x:v.v,e:"rolled back "+v.v+" to "+v.p+": "+(p.indexOf("E")>=0?u.read(c):"started "+(p.length-1)+" times without confirm()")}):u.erase(s)),h&&h.f){for(e=0;e<h.f.length;e++)if(a=d+h.s+e,o=h.f[e],u.read(o)!==u.read(a))for(r=u.read(a).length,t=0;t<r;t+=256)u.write(o,E.toString(u.read(a,t,256)),t,r);for(e=0;h.g&&e<h.g.length;e++)h.f.indexOf(h.g[e])<0&&u.erase(h.g[e]);u.erase(s),h.m&&u.write(s,"b",0,h.m+1),h.e&&u.write(c,h.e),u.writeJSON(n,v={v:h.v,p:h.p,s:h.k?h.s:void 0,o:h.o,f:h.f,g:h.g,a:h.a,x:h.x}),u.erase(f)}u.erase(".otam"),u.list().forEach(function(e){r=e.charAt(5),0==e.indexOf(d)&&r!=v.s&&r!=v.o&&u.erase(e)}),void 0!==u.read(s)&&(i=function(r){if(void 0===(p=u.read(s)))return print("Uncaught "+r);u.write(c,"uncaught "+r),(e=p.indexOf("\\xff"))>=0&&u.write(s,"E",e),E.reboot()},process.on("uncaughtException",i),v.a&&setTimeout(function(){u.erase(s),process.removeListener("uncaughtException",i)},v.a)),void 0!==u.read(g)&&(u.erase(g),u.compact());})()');
                if (E.CRC32(S.read(".bootPowerOn") || "") != 1007158520) S.write(".bootPowerOn", '(function(){var e=".otan",r=require("Storage"),a=r.read(e),i=void 0===a?-1:a.indexOf("\\xff");i>=0&&r.write(e,"b",i);})()');
            } catch (e) {
                return done(fail("EFLASH", "cannot write the boot stage: " + e.message));
            }
            S.erase(".otan");
            clean();
            plan();
        });
        function plan() {
            var u = fileUrl(o.host, o.project, ver, "manifest.json", o.layout), ml = 0;
            get(c, u, function(len) {
                if (len <= 0 || len > 16384) return fail("EMANIFEST", u + " must be 1 to " + 16384 + " bytes, with a Content-Length");
                ml = len;
            }, function(d, at) {
                try {
                    S.write(".otam", d, at, ml);
                } catch (e) {
                    return fail("EFLASH", "writing the manifest: " + e.message);
                }
            }, function(err) {
                if (!err) m = S.readJSON(".otam", 1);
                S.erase(".otam");
                if (err && err.status != "404") return done(err);
                if (!err) {
                    why = manifestError(m) || (m.version != ver ? 'is for version "' + m.version + '"' : "");
                    if (why) return done(fail("EMANIFEST", u + " " + why));
                    files = m.files.map(function(f) {
                        sizes.push(f.size);
                        return f.name;
                    });
                }
                if (o.key) {
                    if (!m) return done(fail("ESIG", "opts.key needs a signed release, and " + ver + " has no manifest"));
                    var sig = m[HK == "sha256" ? "sig" : "sig1"];
                    if (!sig || sig != hmac(o.key, canonical(ver, m.files))) return done(fail("ESIG", "the manifest of " + ver + (sig ? " has a wrong signature" : " is not signed") + "; nothing was installed"));
                }
                if (!files || !files.length) return done(fail("EOPTS", "release " + ver + " has no manifest, so opts.files must list its Storage files"));
                need = room(200 + 32 * files.length) + room(200);
                var total = need;
                for(i = 0; i < sizes.length; i++)total += 2 * room(sizes[i]);
                why = space(total);
                if (why) return done(why);
                next();
            });
        }
        function next() {
            if (k == files.length) return verify();
            var name = ".ota_" + T + k, size = 0;
            get(c, fileUrl(o.host, o.project, ver, files[k], o.layout), function(len) {
                if (len <= 0) return fail("ESIZE", files[k] + ": the server must send a Content-Length, and the file must not be empty");
                if (m && len != sizes[k]) return fail("ESIZE", files[k] + " is " + len + " bytes on the server, the manifest says " + sizes[k]);
                need += room(len);
                size = sizes[k] = len;
                return space(need + room(len));
            }, function(d, at) {
                try {
                    S.write(name, d, at, size);
                } catch (e) {
                    return fail("EFLASH", "writing " + files[k] + ": " + e.message);
                }
                if (o.onProgress) o.onProgress(files[k], at + d.length, size);
            }, function(err) {
                if (err) return stop(err);
                k++;
                next();
            });
        }
        function verify() {
            for(i = 0; i < files.length; i++){
                var d = S.read(".ota_" + T + i), want, got;
                if (!d || d.length != sizes[i]) return stop(fail("EHASH", files[i] + " was not stored whole"));
                if (m) {
                    want = m.files[i][HK];
                    got = H ? hex(H(d)) : E.CRC32(d);
                    if (got != want) return stop(fail("EHASH", files[i] + ": " + HK + " of the download is " + got + ", the manifest says " + want + "; nothing was installed"));
                }
            }
            commit();
        }
        function commit() {
            try {
                S.writeJSON(".otaj", {
                    v: ver,
                    p: c.v,
                    s: T,
                    f: files,
                    g: st.f,
                    k: keep ? 1 : 0,
                    // A rollback needs the running release's copies: without them nothing is pending.
                    o: keep ? st.s : void 0,
                    m: keep && st.s ? maxBoots : 0,
                    a: o.confirmAfter === void 0 ? 6e4 : o.confirmAfter
                });
            } catch (e) {
                S.erase(".otaj");
                return stop(fail("EFLASH", "cannot write the install journal: " + e.message));
            }
            done(null, {
                updated: true,
                version: ver,
                previous: c.v
            });
            reset(o);
        }
    });
}
exports.update = update;
exports.check = check;
exports.version = version;
exports.confirm = confirm;
exports.status = status;
