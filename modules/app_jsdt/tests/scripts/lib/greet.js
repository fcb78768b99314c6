var loaded = 0;
loaded++;
exports.flag = 4;
exports.greet = function (name) { return "hello " + name; };
exports.loads = function () { return loaded; };
exports.filename = __filename;
