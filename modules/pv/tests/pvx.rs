//! Every `KSR.pvx` function, called from Lua.

use kemi_mod_app_lua::testing::{LuaTest, Outcome};

fn run(body: &str) -> Outcome {
    LuaTest::new(&[&kemi_mod_pv::MODULE])
        .run(&format!("function ksr_request_route()\n{body}\nend"))
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn vars() {
    run(r#"
        assert(KSR.pvx.var_get("never") == 0)
        assert(KSR.pvx.var_seti("a", 3) == 1)
        assert(KSR.pvx.var_get("a") == 3)
        assert(KSR.pvx.var_sets("a", "x") == 1)
        assert(KSR.pvx.var_get("a") == "x")
        assert(KSR.pv.get("$var(a)") == "x")
        assert(KSR.pvx.var_seti("", 1) == -1)
    "#);
}

#[test]
fn shared_vars() {
    run(r#"
        assert(KSR.pvx.shv_get("s") == 0)
        assert(KSR.pvx.shv_seti("s", 41) == 1)
        assert(KSR.pvx.shvinc_get("s") == 42)
        assert(KSR.pvx.shv_get("s") == 42)
        assert(KSR.pvx.shvinc_get("fresh") == 1)
        assert(KSR.pvx.shv_sets("t", "str") == 1)
        assert(KSR.pvx.shv_get("t") == "str")
        assert(KSR.pvx.shvinc_get("t") == nil)
        assert(KSR.pv.get("$shv(s)") == 42)
        assert(KSR.pvx.shv_sets("", "x") == -1)
    "#);
}

#[test]
fn xavp_family() {
    run(r#"
        assert(KSR.pvx.xavp_is_null("a") == 1)
        assert(KSR.pvx.xavp_get("a") == nil)
        assert(KSR.pvx.xavp_gete("a") == "")
        assert(KSR.pvx.xavp_getw("a") == "<null>")
        assert(KSR.pvx.xavp_getd("a") == nil)
        assert(KSR.pvx.xavp_getd_p1("a", 0) == nil)
        assert(KSR.pvx.xavp_get_keys("a", 0) == nil)
        assert(KSR.pvx.xavp_seti("a", 1) == 1)
        assert(KSR.pvx.xavp_sets("a", "two") == 1)
        assert(KSR.pvx.xavp_is_null("a") == -1)
        assert(KSR.pvx.xavp_get("a") == "two")
        assert(KSR.pvx.xavp_gete("a") == "two")
        assert(KSR.pvx.xavp_getw("a") == "two")
        assert(KSR.pv.get("$xavp(a[1])") == 1)
        local d = KSR.pvx.xavp_getd("a")
        assert(#d == 2 and d[1] == "two" and d[2] == 1)
        assert(KSR.pvx.xavp_getd_p1("a", 1) == 1)
        assert(KSR.pvx.xavp_rm("a") == 1)
        assert(KSR.pvx.xavp_get("a") == 1)
        assert(KSR.pvx.xavp_rm("a") == 1)
        assert(KSR.pvx.xavp_rm("a") == 1)
        assert(KSR.pvx.xavp_is_null("a") == 1)
        assert(KSR.pvx.xavp_seti("", 1) == -1)

        -- children
        assert(KSR.pvx.xavp_child_is_null("r", "c") == 1)
        assert(KSR.pvx.xavp_child_get("r", "c") == nil)
        assert(KSR.pvx.xavp_child_gete("r", "c") == "")
        assert(KSR.pvx.xavp_child_getw("r", "c") == "<null>")
        assert(KSR.pvx.xavp_child_seti("r", "c", 1) == 1)
        assert(KSR.pvx.xavp_child_sets("r", "c", "new") == 1)
        assert(KSR.pvx.xavp_child_sets("r", "d", "dv") == 1)
        assert(KSR.pvx.xavp_child_is_null("r", "c") == -1)
        assert(KSR.pvx.xavp_child_get("r", "c") == "new")
        assert(KSR.pvx.xavp_child_gete("r", "d") == "dv")
        assert(KSR.pvx.xavp_child_getw("r", "d") == "dv")
        assert(KSR.pv.get("$xavp(r=>c[1])") == 1)
        local keys = KSR.pvx.xavp_get_keys("r", 0)
        assert(#keys == 2 and keys[1] == "d" and keys[2] == "c")
        local p1 = KSR.pvx.xavp_getd_p1("r", 0)
        assert(p1.c[1] == "new" and p1.c[2] == 1 and p1.d[1] == "dv")
        local all = KSR.pvx.xavp_getd("r")
        assert(#all == 1 and all[1].d[1] == "dv")
        assert(KSR.pvx.xavp_child_rm("r", "c") == 1)
        assert(KSR.pvx.xavp_child_get("r", "c") == 1)
        assert(KSR.pvx.xavp_child_rm("nope", "c") == 1)
        assert(KSR.pvx.xavp_seti("scalar", 1) == 1)
        assert(KSR.pvx.xavp_child_seti("scalar", "c", 1) == -1)
        assert(KSR.pvx.xavp_get_keys("scalar", 0) == nil)
        assert(KSR.pvx.xavp_sets("r", "x") == 1)
        assert(KSR.pvx.xavp_rm_all("r") == 1)
        assert(KSR.pvx.xavp_is_null("r") == 1)
    "#);
}

#[test]
fn xavu_family() {
    let out = run(r#"
        assert(KSR.pvx.xavu_is_null("u") == 1)
        assert(KSR.pvx.xavu_get("u") == nil)
        assert(KSR.pvx.xavu_gete("u") == "")
        assert(KSR.pvx.xavu_getw("u") == "<null>")
        assert(KSR.pvx.xavu_seti("u", 1) == 1)
        assert(KSR.pvx.xavu_sets("u", "2") == 1)
        assert(KSR.pvx.xavu_get("u") == "2")
        assert(KSR.pvx.xavu_gete("u") == "2")
        assert(KSR.pvx.xavu_getw("u") == "2")
        assert(KSR.pvx.xavu_is_null("u") == -1)
        assert(KSR.pvx.xavu_rm("u") == 1)
        assert(KSR.pvx.xavu_is_null("u") == 1)

        assert(KSR.pvx.xavu_child_is_null("r", "c") == 1)
        assert(KSR.pvx.xavu_child_seti("r", "c", 1) == 1)
        assert(KSR.pvx.xavu_child_sets("r", "c", "two") == 1)
        assert(KSR.pvx.xavu_child_get("r", "c") == "two")
        assert(KSR.pvx.xavu_child_gete("r", "c") == "two")
        assert(KSR.pvx.xavu_child_getw("r", "c") == "two")
        assert(KSR.pvx.xavu_child_is_null("r", "c") == -1)
        assert(KSR.pvx.xavu_child_rm("r", "c") == 1)
        assert(KSR.pvx.xavu_child_get("r", "c") == nil)
        assert(KSR.pvx.xavu_child_gete("r", "c") == "")
        assert(KSR.pvx.xavu_child_getw("r", "c") == "<null>")
        assert(KSR.pvx.xavu_child_seti("r", "k", 5) == 1)
    "#);
    // Overwrites, never stacks.
    assert_eq!(out.ctx.pv.xavus.count("r", false), 1);
}

#[test]
fn xavi_family_ignores_case() {
    run(r#"
        assert(KSR.pvx.xavi_is_null("A") == 1)
        assert(KSR.pvx.xavi_get("A") == nil)
        assert(KSR.pvx.xavi_gete("A") == "")
        assert(KSR.pvx.xavi_getw("A") == "<null>")
        assert(KSR.pvx.xavi_seti("A", 1) == 1)
        assert(KSR.pvx.xavi_sets("a", "two") == 1)
        assert(KSR.pvx.xavi_get("A") == "two")
        assert(KSR.pvx.xavi_gete("a") == "two")
        assert(KSR.pvx.xavi_getw("A") == "two")
        assert(KSR.pvx.xavi_is_null("a") == -1)
        local d = KSR.pvx.xavi_getd("a")
        assert(#d == 2 and d[2] == 1)
        assert(KSR.pvx.xavi_getd_p1("A", -1) == 1)
        assert(KSR.pvx.xavi_rm("A") == 1)
        assert(KSR.pvx.xavi_get("a") == 1)
        assert(KSR.pvx.xavi_rm_all("A") == 1)
        assert(KSR.pvx.xavi_is_null("a") == 1)

        assert(KSR.pvx.xavi_child_is_null("R", "C") == 1)
        assert(KSR.pvx.xavi_child_seti("R", "C", 1) == 1)
        assert(KSR.pvx.xavi_child_sets("r", "c", "v") == 1)
        assert(KSR.pvx.xavi_child_get("r", "C") == "v")
        assert(KSR.pvx.xavi_child_gete("R", "c") == "v")
        assert(KSR.pvx.xavi_child_getw("R", "c") == "v")
        assert(KSR.pvx.xavi_child_is_null("r", "c") == -1)
        local keys = KSR.pvx.xavi_get_keys("r", 0)
        assert(#keys == 2)
        assert(KSR.pvx.xavi_child_rm("r", "C") == 1)
        assert(KSR.pvx.xavi_child_get("r", "c") == 1)
        assert(KSR.pvx.xavi_child_get("x", "c") == nil)
        assert(KSR.pvx.xavi_child_gete("x", "c") == "")
        assert(KSR.pvx.xavi_child_getw("x", "c") == "<null>")
        -- $xavp stays case-sensitive
        assert(KSR.pvx.xavp_sets("K", "v") == 1)
        assert(KSR.pvx.xavp_get("k") == nil)
    "#);
}

#[test]
fn avps() {
    run(r#"
        assert(KSR.pvx.avp_is_null("a") == 1)
        assert(KSR.pvx.avp_get("a") == nil)
        assert(KSR.pvx.avp_gete("a") == "")
        assert(KSR.pvx.avp_getw("a") == "<null>")
        assert(KSR.pvx.avp_seti("a", 1) == 1)
        assert(KSR.pvx.avp_sets("a", "s") == 1)
        assert(KSR.pvx.avp_get("a") == "s")
        assert(KSR.pvx.avp_gete("a") == "s")
        assert(KSR.pvx.avp_getw("a") == "s")
        assert(KSR.pv.get("$(avp(a)[1])") == 1)
        assert(KSR.pvx.avp_is_null("a") == -1)
        assert(KSR.pvx.avp_rm("a") == 1)
        assert(KSR.pvx.avp_is_null("a") == 1)
        assert(KSR.pvx.avp_seti("", 1) == -1)
    "#);
}

#[test]
fn params_explode_implode() {
    run(r#"
        assert(KSR.pvx.xavp_params_explode("a=1;b=two;flag", "p") == 1)
        assert(KSR.pvx.xavp_child_get("p", "a") == "1")
        assert(KSR.pvx.xavp_child_get("p", "b") == "two")
        assert(KSR.pvx.xavp_child_get("p", "flag") == "")
        assert(KSR.pvx.xavp_params_implode("p", "$var(out)") == 1)
        assert(KSR.pv.get("$var(out)") == "a=1;b=two;flag=")
        assert(KSR.pvx.xavp_child_seti("p", "n", 5) == 1)
        assert(KSR.pvx.xavp_params_implode_qval("p", "$var(q)") == 1)
        assert(KSR.pv.get("$var(q)") == 'n=5;a="1";b="two";flag=""')
        assert(KSR.pvx.xavp_params_implode("none", "$var(out)") == -1)
        assert(KSR.pvx.xavp_params_implode("p", "$bad") == -1)
        assert(KSR.pvx.xavp_params_explode("", "p") == -1)
        assert(KSR.pvx.xavp_params_explode("=x", "p") == -1)
        assert(KSR.pvx.xavp_xparams_explode("x=1&y=2", "&", "xp") == 1)
        assert(KSR.pvx.xavp_child_get("xp", "y") == "2")
        assert(KSR.pvx.xavp_xparams_explode("x=1", "", "xp") == -1)
        assert(KSR.pvx.xavu_params_explode("a=1", "u") == 1)
        assert(KSR.pvx.xavu_params_explode("a=2;c=3", "u") == 1)
        assert(KSR.pvx.xavu_child_get("u", "a") == "2")
        assert(KSR.pvx.xavu_params_implode("u", "$var(u)") == 1)
        assert(KSR.pv.get("$var(u)") == "a=2;c=3")
        assert(KSR.pvx.xavu_params_implode("none", "$var(u)") == -1)
    "#);
}

#[test]
fn slist_explode() {
    run(r#"
        assert(KSR.pvx.xavp_slist_explode("a, b,,c", ",", "t", "l") == 1)
        assert(KSR.pv.get("$xavp(l[0])") == "a")
        assert(KSR.pv.get("$xavp(l[1])") == "b")
        assert(KSR.pv.get("$xavp(l[2])") == "c")
        assert(KSR.pv.get("$xavp(l[3])") == nil)
        assert(KSR.pvx.xavp_slist_explode("x;;y", ";", "e", "m") == 1)
        assert(KSR.pv.get("$xavp(m[1])") == "")
        assert(KSR.pvx.xavp_slist_explode("", ",", "", "n") == -1)
        assert(KSR.pvx.xavp_slist_explode("a", "", "", "n") == -1)
    "#);
}

#[test]
fn var_xavp_copies_and_print() {
    run(r#"
        assert(KSR.pvx.var_seti("v1", 1) == 1)
        assert(KSR.pvx.var_sets("v2", "two") == 1)
        assert(KSR.pvx.pv_var_to_xavp("v1", "x") == 1)
        assert(KSR.pvx.xavp_child_get("x", "v1") == 1)
        assert(KSR.pvx.pv_var_to_xavp("*", "x") == 1)
        assert(KSR.pvx.xavp_child_get("x", "v2") == "two")
        assert(KSR.pv.get("$xavp(x[1])") == nil)
        assert(KSR.pvx.xavp_child_sets("y", "v3", "three") == 1)
        assert(KSR.pvx.pv_xavp_to_var("y") == 1)
        assert(KSR.pvx.var_get("v3") == "three")
        assert(KSR.pvx.pv_xavp_to_var("none") == -1)
        assert(KSR.pvx.pv_var_to_xavp("", "x") == -1)
        assert(KSR.pvx.xavu_sets("u", "1") == 1)
        assert(KSR.pvx.xavi_sets("i", "1") == 1)
        assert(KSR.pvx.pv_xavp_print() == 1)
        assert(KSR.pvx.pv_xavu_print() == 1)
        assert(KSR.pvx.pv_xavi_print() == 1)
    "#);
}

#[test]
fn copy_lshift() {
    run(r#"
        for _, v in ipairs({"c", "b", "a"}) do assert(KSR.pvx.xavp_sets("s", v) == 1) end
        -- s: a, b, c
        assert(KSR.pvx.xavp_copy("s", 1, "d") == 1)
        assert(KSR.pvx.xavp_sets("d", "top") == 1)
        assert(KSR.pvx.xavp_copy("s", 2, "d") == 1)
        assert(KSR.pv.get("$xavp(d[0])") == "top")
        assert(KSR.pv.get("$xavp(d[1])") == "b")
        assert(KSR.pv.get("$xavp(d[2])") == "c")
        assert(KSR.pvx.xavp_copy("s", 9, "d") == -1)
        assert(KSR.pvx.xavp_copy_dst("s", 0, "d", 1) == 1)
        assert(KSR.pv.get("$xavp(d[1])") == "a")
        assert(KSR.pvx.xavp_copy_dst("s", 0, "d", 7) == -1)
        assert(KSR.pvx.xavp_copy_dst("none", 0, "d", 0) == -1)
        assert(KSR.pvx.xavp_lshift("s", 1) == 1)
        assert(KSR.pv.get("$xavp(s[0])") == "b")
        assert(KSR.pv.get("$xavp(s[1])") == "c")
        assert(KSR.pv.get("$xavp(s[2])") == "a")
        assert(KSR.pvx.xavp_lshift("s", 5) == -1)
        assert(KSR.pvx.xavp_child_sets("r", "c", "v") == 1)
        assert(KSR.pvx.xavp_copy("r", 0, "r2") == 1)
        assert(KSR.pvx.xavp_child_get("r2", "c") == "v")
    "#);
}

#[test]
fn push_dst_and_evalx() {
    let out = run(r#"
        assert(KSR.pvx.xavp_push_dst("none") == -1)
        assert(KSR.pvx.xavp_child_sets("dst", "other", "x") == 1)
        assert(KSR.pvx.xavp_push_dst("dst") == -1)
        assert(KSR.pvx.xavp_child_sets("dst", "uri", "sip:new@example.net") == 1)
        assert(KSR.pvx.xavp_child_sets("dst", "dsturi", "sip:10.0.0.1:5080") == 1)
        assert(KSR.pvx.xavp_push_dst("dst") == 1)
        assert(KSR.pv.get("$ru") == "sip:new@example.net")
        assert(KSR.pv.get("$du") == "sip:10.0.0.1:5080")
        assert(KSR.pvx.evalx("$var(e)", "$rU at $rd via $du") == 1)
        assert(KSR.pv.get("$var(e)") == "new at example.net via sip:10.0.0.1:5080")
        assert(KSR.pvx.evalx("$ci", "x") == -1)
        assert(KSR.pvx.evalx("bad", "x") == -1)
    "#);
    assert_eq!(out.ctx.new_uri.as_deref(), Some("sip:new@example.net"));
}

#[test]
fn static_branch() {
    let out = run(r#"
        assert(KSR.pvx.sbranch_reset() == 1)
        assert(KSR.pvx.sbranch_set_ruri() == -1)
        assert(KSR.pv.sets("$sbranch(uri)", "sip:s@example.org") == true)
        assert(KSR.pv.sets("$sbranch(dst_uri)", "sip:10.1.1.1") == true)
        assert(KSR.pvx.sbranch_set_ruri() == 1)
        assert(KSR.pv.get("$ru") == "sip:s@example.org")
        assert(KSR.pv.get("$du") == "sip:10.1.1.1")
        assert(KSR.pvx.sbranch_reset() == 1)
        assert(KSR.pv.get("$sbranch(uri)") == nil)
    "#);
    assert_eq!(out.ctx.dst_uri.as_deref(), Some("sip:10.1.1.1"));
}

#[test]
fn static_branch_appended_to_the_destination_set() {
    let out = LuaTest::new(&[&kemi_mod_pv::MODULE, &kemi_mod_corex::MODULE])
        .run(
            r#"function ksr_request_route()
        assert(KSR.pvx.sbranch_reset() == 1)
        assert(KSR.pvx.sbranch_append() == -1)
        assert(KSR.pv.sets("$sbranch(uri)", "sip:s@example.org") == true)
        assert(KSR.pv.sets("$sbranch(dst_uri)", "sip:10.1.1.1:5070") == true)
        assert(KSR.pv.sets("$sbranch(path)", "<sip:10.2.2.2;lr>") == true)
        assert(KSR.pv.seti("$sbranch(q)", 500) == true)
        assert(KSR.pv.seti("$sbranch(flags)", 6) == true)
        assert(KSR.pvx.sbranch_append() == 1)
        -- The static branch stays: appended again, then one from corex.
        assert(KSR.pv.get("$sbranch(uri)") == "sip:s@example.org")
        assert(KSR.pv.seti("$sbranch(q)", -1) == true)
        assert(KSR.pv.sets("$sbranch(dst_uri)", "") == true)
        assert(KSR.pvx.sbranch_append() == 1)
        assert(KSR.corex.append_branch_uri("sip:c@example.net") == 1)
        -- Unusable fields refuse the append.
        assert(KSR.pv.seti("$sbranch(q)", 1001) == true)
        assert(KSR.pvx.sbranch_append() == -1)
        assert(KSR.pv.seti("$sbranch(q)", 1000) == true)
        assert(KSR.pv.sets("$sbranch(send_socket)", "udp:10.9.9.9:5060") == true)
        assert(KSR.pvx.sbranch_append() == -1)
        assert(KSR.pvx.sbranch_reset() == 1)
        -- The R-URI is untouched.
        assert(KSR.pv.get("$ru") == "sip:alice@example.com")
    end"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let b = &out.ctx.branches;
    assert_eq!(b.len(), 3);
    assert_eq!(
        b[0],
        kemi_core::context::Branch {
            uri: "sip:s@example.org".into(),
            dst_uri: Some("sip:10.1.1.1:5070".into()),
            path: Some("<sip:10.2.2.2;lr>".into()),
            q: Some(500),
            flags: 6,
            socket: None,
        }
    );
    assert_eq!(b[1].uri, "sip:s@example.org");
    assert_eq!((b[1].dst_uri.as_deref(), b[1].q), (None, None));
    assert_eq!(b[2].uri, "sip:c@example.net");
    assert_eq!(out.ctx.dst_uri, None);
}

#[test]
fn static_branch_with_a_local_socket_and_a_full_set() {
    let cfg = kemi_core::config::parse_str(
        "listen=udp:127.0.0.1:5060 name \"int\"\n",
        "test.cfg",
        &[],
        &[],
    )
    .unwrap();
    let out = LuaTest::new(&[&kemi_mod_pv::MODULE])
        .config(cfg)
        .run(
            r#"function ksr_request_route()
        assert(KSR.pvx.sbranch_reset() == 1)
        assert(KSR.pv.sets("$sbranch(uri)", "sip:s@example.org") == true)
        assert(KSR.pv.sets("$sbranch(send_socket)", "udp:127.0.0.1:5060") == true)
        for i = 1, 11 do assert(KSR.pvx.sbranch_append() == 1) end
        -- The set holds MAX_BRANCHES - 1 branches besides the R-URI.
        assert(KSR.pvx.sbranch_append() == -1)
        assert(KSR.pvx.sbranch_reset() == 1)
    end"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.ctx.branches.len(), 11);
    let socket = out.ctx.branches[0].socket.clone().expect("a socket");
    assert_eq!(socket.addr, "127.0.0.1:5060".parse().unwrap());
    assert_eq!(socket.name.as_deref(), Some("int"));
}
