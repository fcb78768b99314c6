exports.ok = 1;
null.boom; // line 2
