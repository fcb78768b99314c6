//! Lexical rules, global parameters, listen/alias/socket, loadmodule,
//! modparam and cfgengine: what a valid config turns into.

mod config_common;

use config_common::*;
use kemi_core::config::{Host, Proto, Value};

#[test]
fn defaults_are_kamailios() {
    let cfg = parse_ok("");
    assert_eq!(cfg.file, "test.cfg");
    assert_eq!(cfg.port, 5060);
    assert_eq!(cfg.children, 8);
    assert_eq!(cfg.debug, 2);
    assert!(!cfg.accepted.contains_key("fork"));
    assert_eq!(cfg.log_stderror, None);
    assert!(cfg.auto_aliases);
    assert_eq!(cfg.log_facility, "LOG_DAEMON");
    assert_eq!(cfg.kemi.request_route, "ksr_request_route");
    assert_eq!(cfg.kemi.reply_route.as_deref(), Some("ksr_reply_route"));
    assert_eq!(cfg.kemi.onsend_route.as_deref(), Some("ksr_onsend_route"));
    assert_eq!(cfg.kemi.event_route, None);
    assert_eq!(cfg.latency.log, -1);
    assert_eq!(cfg.engine, None);
    assert!(cfg.listen.is_empty() && cfg.modules.is_empty());
}

#[test]
fn comments() {
    let cfg = parse_ok(
        "# hash comment\n// slash comment\ndebug=3 # trailing\n/* block\n /* nested */ still comment\n debug=9 */\n\
         children=4 // trailing\nport=/* inline */5070\n",
    );
    assert_eq!((cfg.debug, cfg.children, cfg.port), (3, 4, 5070));
}

#[test]
fn strings_escapes_and_concatenation() {
    let cfg = parse_ok(
        "log_prefix=\"a\\tb\\n\\\"q\\\" \\x41\\101 \\d\"\n\
         server_header=\"Server: \"  \"kemi\"\n   \"-proxy\"\n\
         user_agent_header='raw \\n \"x\"' \n\
         log_name=\"one \\\n two\"\n",
    );
    assert_eq!(cfg.log_prefix.as_deref(), Some("a\tb\n\"q\" AA \\d"));
    assert_eq!(cfg.server_header.as_deref(), Some("Server: kemi-proxy"));
    assert_eq!(cfg.user_agent_header.as_deref(), Some("raw \\n \"x\""));
    assert_eq!(cfg.log_name.as_deref(), Some("one  two"));
}

#[test]
fn numbers_and_booleans() {
    let cfg = parse_ok(
        "children=0x10\ndebug=-1\nfork=no\nlog_stderror=yes\nauto_aliases=off\ndisable_tcp=on\n\
         enable_tls=true\nsip_warning=enable\nserver_signature=disable\nonsend_route_reply=1\n\
         tcp_accept_no_cl=false\n",
    );
    assert_eq!(cfg.children, 16);
    assert_eq!(cfg.debug, -1);
    assert!(cfg.log_stderror == Some(true) && !cfg.auto_aliases && cfg.disable_tcp);
    assert_eq!(cfg.accepted.get("fork"), Some(&Value::Int(0)));
    assert!(!cfg.server_signature && cfg.onsend_route_reply);
    // Accepted only (no TLS transport, no Warning header), still checked
    // for their kind and recorded.
    assert_eq!(cfg.accepted.get("enable_tls"), Some(&Value::Int(1)));
    assert_eq!(cfg.accepted.get("sip_warning"), Some(&Value::Int(1)));
    assert!(!cfg.tcp_accept_no_cl);
}

#[test]
fn applied_core_parameters() {
    let cfg = parse_ok(
        "log_facility=LOG_LOCAL0\nlog_name=\"kemi\"\nlog_color=yes\ntcp_connection_lifetime=3605\n\
         tcp_max_connections=4096\nasync_workers=4\nreceived_route_mode=1\ntcp_children=2\n\
         enable_sctp=0\nlatency_cfg_log=2\nlatency_log=2\nlatency_limit_action=100000\nlatency_limit_db=200000\n\
         latency_limit_cfg=500\nserver_header=\"Server: x\"\nuser_agent_header=\"User-Agent: x\"\n",
    );
    assert_eq!(cfg.log_facility, "LOG_LOCAL0");
    assert_eq!(cfg.log_name.as_deref(), Some("kemi"));
    assert!(cfg.log_color);
    assert_eq!(cfg.tcp_connection_lifetime, 3605);
    assert_eq!(cfg.tcp_max_connections, 4096);
    assert_eq!(cfg.tcp_children, Some(2));
    assert_eq!((cfg.latency.log, cfg.latency.limit_action), (2, 100000));
    assert_eq!(
        cfg.server_header
            .as_deref()
            .zip(cfg.user_agent_header.as_deref()),
        Some(("Server: x", "User-Agent: x"))
    );
    for accepted in [
        "async_workers",
        "received_route_mode",
        "enable_sctp",
        "latency_cfg_log",
        "latency_limit_db",
        "latency_limit_cfg",
    ] {
        assert!(cfg.accepted.contains_key(accepted), "{accepted}");
    }
}

#[test]
fn accepted_core_parameters_are_recorded() {
    let cfg = parse_ok(
        "memdbg=5\nmemlog=5\ncorelog=1\ndns=no\nrev_dns=no\nuse_dns_cache=off\ndns_try_ipv6=no\nmhomed=0\n\
         max_while_loops=100\npv_cache_limit=2048\npv_cache_action=1\ntcp_rd_buf_size=65536\n\
         xavp_via_params=\"via\"\nuser=kamailio\ngroup=\"kamailio\"\ntos=0x10\n",
    );
    assert_eq!(cfg.accepted.get("memdbg"), Some(&Value::Int(5)));
    assert_eq!(
        cfg.accepted.get("user"),
        Some(&Value::Str("kamailio".into()))
    );
    assert_eq!(
        cfg.accepted.get("xavp_via_params"),
        Some(&Value::Str("via".into()))
    );
    assert_eq!(cfg.accepted.len(), 16);
}

#[test]
fn kemi_callbacks() {
    let cfg = parse_ok(
        "kemi.request_route_callback=\"my_route\"\nkemi.reply_route_callback=\"none\"\n\
         kemi.onsend_route_callback=\"\"\nkemi.event_route_callback=\"ksr_event\"\n\
         kemi.received_route_callback=\"ksr_received\"\nkemi.pre_routing_callback=\"NONE\"\n",
    );
    assert_eq!(cfg.kemi.request_route, "my_route");
    assert_eq!(cfg.kemi.reply_route, None);
    assert_eq!(cfg.kemi.onsend_route, None);
    assert_eq!(cfg.kemi.event_route.as_deref(), Some("ksr_event"));
    // Not raised here: accepted only.
    assert_eq!(
        cfg.accepted.get("kemi.received_route_callback"),
        Some(&Value::Str("ksr_received".into()))
    );
}

#[test]
fn listen_forms() {
    let cfg = parse_ok(
        "listen=udp:127.0.0.1:5060\nlisten=tcp:127.0.0.1:5060 tls:127.0.0.1:5061\n\
         listen=udp:[::1]:5060\nlisten=sip.example.com\nlisten=eth0:5080\n\
         listen=udp:10.0.0.10:5060 advertise 1.2.3.4:5080 name \"pub\"\n\
         listen=*:5062 virtual\nlisten=\"udp:192.168.1.1:5090\"\n\
         #!define LISTEN_ADDR udp:10.9.9.9:5099\nlisten=LISTEN_ADDR\n\
         listen=sctp:my-host.example.com:*\n",
    );
    let l = &cfg.listen;
    assert_eq!(l.len(), 11);
    assert_eq!(
        (l[0].proto, l[0].addr.clone(), l[0].port),
        (Proto::Udp, Host::Ipv4([127, 0, 0, 1].into()), Some(5060))
    );
    assert_eq!(
        (l[1].proto, l[2].proto, l[2].port),
        (Proto::Tcp, Proto::Tls, Some(5061))
    );
    assert_eq!(l[3].addr, Host::Ipv6("::1".parse().unwrap()));
    assert_eq!(
        (l[4].proto, l[4].addr.clone(), l[4].port),
        (Proto::Any, Host::Name("sip.example.com".into()), None)
    );
    assert_eq!(
        (l[5].addr.clone(), l[5].port),
        (Host::Name("eth0".into()), Some(5080))
    );
    let adv = l[6].advertise.clone().unwrap();
    assert_eq!(
        (adv.addr, adv.port),
        (Host::Ipv4([1, 2, 3, 4].into()), Some(5080))
    );
    assert_eq!(l[6].name.as_deref(), Some("pub"));
    assert_eq!((l[7].addr.clone(), l[7].is_virtual), (Host::Any, true));
    assert_eq!((l[8].proto, l[8].port), (Proto::Udp, Some(5090)));
    assert_eq!(l[9].addr, Host::Ipv4([10, 9, 9, 9].into()));
    assert_eq!(
        (l[10].proto, l[10].addr.clone(), l[10].port),
        (Proto::Sctp, Host::Name("my-host.example.com".into()), None)
    );
}

#[test]
fn listen_ends_at_the_line_end() {
    let cfg =
        parse_ok("listen=udp:127.0.0.1:5060\nport=5070\nlisten=tcp:127.0.0.1:5070; children=3\n");
    assert_eq!(cfg.listen.len(), 2);
    assert_eq!((cfg.port, cfg.children), (5070, 3));
    assert_eq!(cfg.listen[1].proto, Proto::Tcp);
}

#[test]
fn socket_block() {
    let cfg = parse_ok(
        "socket = {\n  bind = udp:10.0.0.10:5060;\n  advertise = 5.6.7.8:5060;\n  name = \"s0\";\n  workers = 4;\n}\n\
         socket {\n bind = tcp:127.0.0.1:5060;\n virtual = yes;\n}\n",
    );
    assert_eq!(cfg.listen.len(), 2);
    let s = &cfg.listen[0];
    assert_eq!(
        (s.proto, s.port, s.name.as_deref(), s.workers),
        (Proto::Udp, Some(5060), Some("s0"), Some(4))
    );
    assert_eq!(
        s.advertise.as_ref().map(|a| a.addr.clone()),
        Some(Host::Ipv4([5, 6, 7, 8].into()))
    );
    assert!(cfg.listen[1].is_virtual);
    assert_eq!(
        one_err("socket = {\n name = \"x\";\n}\n"),
        (1, "socket block without 'bind'".into())
    );
    assert_eq!(
        one_err("socket = {\n bind = udp:1.2.3.4:5060;\n color = 1;\n}\n"),
        (
            3,
            "socket: unknown attribute 'color' (known: bind, advertise, name, workers, virtual)"
                .into()
        )
    );
}

#[test]
fn aliases() {
    let cfg =
        parse_ok("alias=example.com\nalias=udp:sip.example.com:5060 other.example.org:5080\n");
    let a: Vec<(Proto, String, Option<u16>)> = cfg
        .alias
        .iter()
        .map(|a| (a.proto, a.host.clone(), a.port))
        .collect();
    assert_eq!(
        a,
        [
            (Proto::Any, "example.com".into(), None),
            (Proto::Udp, "sip.example.com".into(), Some(5060)),
            (Proto::Any, "other.example.org".into(), Some(5080)),
        ]
    );
}

#[test]
fn loadmodule_forms() {
    let cfg = parse_ok(
        "loadpath \"/usr/lib/x86_64-linux-gnu/kamailio/modules/\"\nmpath=\"/usr/local/lib64/kamailio/modules\"\n\
         loadmodule \"sl\"\nloadmodule \"tm.so\"\nloadmodule \"/usr/lib/x86_64-linux-gnu/kamailio/modules/pv.so\"\n\
         loadmodule(\"rr.so\")\nloadmodule(\"xlog\", \"g\")\nloadmodulex \"maxfwd.so\"\nloadmodule \"tm.so\"\n\
         loadmodule(\"sl.so\", \"o\")\n",
    );
    let names: Vec<&str> = cfg.modules.iter().map(|m| m.name()).collect();
    assert_eq!(names, ["sl", "tm", "pv", "rr", "xlog", "maxfwd"]);
    assert_eq!(cfg.loadpath.len(), 2);
    assert!(cfg.defines.is_defined("MOD_maxfwd"));
    assert_eq!(
        one_err("loadmodule(\"sl\", \"x\")\n"),
        (1, "loadmodule: unknown flag 'x' (known flags: g, o)".into())
    );
}

#[test]
fn modparam_forms() {
    let cfg = parse_ok(
        "loadmodule \"nathelper.so\"\nloadmodule \"registrar.so\"\nloadmodule \"app_lua.so\"\nloadmodule \"tm.so\"\n\
         modparam(\"nathelper|registrar\", \"received_avp\", \"$avp(RECEIVED)\")\n\
         modparam(\"app_lua\", \"load\", \"/a.lua\")\nmodparam(\"app_lua\", \"load\", \"/b.lua\")\n\
         modparam(\"tm\", \"fr_timer\", 1)\nmodparam(\"tm\", \"fr_timer\", 2)\nmodparam(\"TM\", \"fr_inv_timer\", yes)\n\
         modparam(\"t.\", \"failure_reply_mode\", -3)\n\
         #!define LOADFILE \"/c.lua\"\n#!define KEMIMODULE \"app_lua\"\nmodparam(KEMIMODULE, \"load\", LOADFILE)\n\
         modparamx(\"tm\", \"event_callback\", \"ksr_tm_event\")\n",
    );
    for m in ["nathelper", "registrar"] {
        assert_eq!(
            cfg.module(m).unwrap().param("received_avp"),
            Some(&Value::Str("$avp(RECEIVED)".into()))
        );
    }
    let lua = cfg.module("app_lua").unwrap();
    let loads: Vec<&Value> = lua.param_all("load").collect();
    assert_eq!(
        loads,
        [
            &Value::Str("/a.lua".into()),
            &Value::Str("/b.lua".into()),
            &Value::Str("/c.lua".into())
        ]
    );
    let tm = cfg.module("tm").unwrap();
    assert_eq!(tm.param("fr_timer"), Some(&Value::Int(2)));
    assert_eq!(
        tm.param_all("fr_timer").count(),
        1,
        "non-repeatable: last wins"
    );
    assert_eq!(tm.param("fr_inv_timer"), Some(&Value::Int(1)));
    assert_eq!(tm.param("failure_reply_mode"), Some(&Value::Int(-3)));
    assert_eq!(
        tm.param("event_callback"),
        Some(&Value::Str("ksr_tm_event".into()))
    );
}

#[test]
fn cfgengine_forms() {
    for (text, want) in [
        ("loadmodule \"app_lua.so\"\ncfgengine \"lua\"\n", "lua"),
        ("loadmodule \"app_lua.so\"\ncfgengine = \"LUA\"\n", "lua"),
        (
            "loadmodule \"app_python3.so\"\ncfgengine \"python\"\n",
            "python",
        ),
        ("loadmodule \"app_jsdt.so\"\ncfgengine \"jsdt\"\n", "jsdt"),
        ("cfgengine \"native\"\n", "native"),
        ("cfgengine \"Default\"\n", "native"),
    ] {
        assert_eq!(parse_ok(text).engine.as_deref(), Some(want), "{text}");
    }
}

#[test]
fn custom_cfg_vars() {
    let cfg = parse_ok("pstn.gw_ip = \"1.2.3.4\" descr \"PSTN gateway\"\nmy.limit = 10\n");
    assert_eq!(cfg.cfg_vars.len(), 2);
    assert_eq!(cfg.cfg_vars[0].group, "pstn");
    assert_eq!(cfg.cfg_vars[0].name, "gw_ip");
    assert_eq!(cfg.cfg_vars[0].value, Value::Str("1.2.3.4".into()));
    assert_eq!(cfg.cfg_vars[0].descr.as_deref(), Some("PSTN gateway"));
    assert_eq!(cfg.cfg_vars[1].value, Value::Int(10));
}

#[test]
fn keywords_are_not_replaced_by_defines() {
    // As in Kamailio, `debug` stays the keyword even if defined.
    let cfg = parse_ok("#!define debug 7\ndebug=3\n");
    assert_eq!(cfg.debug, 3);
}

#[test]
fn crlf_line_endings() {
    let cfg = parse_ok("#!KAMAILIO\r\n#!define A 4\r\n#!ifdef A\r\ndebug=A\r\n#!endif\r\nlisten=udp:127.0.0.1:5060\r\n");
    assert_eq!(cfg.debug, 4);
    assert_eq!(cfg.listen.len(), 1);
    let cfg = parse_ok("listen=udp:127.0.0.1:5060 \\\r\n  tcp:127.0.0.1:5060\r\n");
    assert_eq!(
        cfg.listen.len(),
        2,
        "an escaped newline continues the listen list"
    );
}
