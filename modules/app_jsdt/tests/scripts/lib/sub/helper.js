// Required from lib/index.js: "./" is relative to lib/, not to the script.
exports.value = "helper in " + __dirname.split("/").slice(-2).join("/");
