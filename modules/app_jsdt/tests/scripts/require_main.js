// require() of CommonJS modules, relative to this file.
var lib = require("./lib/greet");
var again = require("./lib/greet.js");
var index = require("./lib");
var bare = require("lib/greet");

function ksr_request_route() {
    KSR.setflag(lib.flag);
}

function test_require() {
    same_module = lib === again && lib === bare;
    greeting = lib.greet("js");
    loads = lib.loads();
    index_value = index.value;
    nested_value = index.nested;
    filename_seen = lib.filename;
    try { require("./lib/missing"); } catch (e) { missing_err = String(e); }
    try { require("./lib/broken"); } catch (e) { broken_err = String(e) + "\n" + e.stack; }
}
