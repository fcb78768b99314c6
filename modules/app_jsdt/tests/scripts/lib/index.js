var helper = require("./sub/helper");
module.exports = { value: "index", nested: helper.value };
