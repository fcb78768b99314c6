//! JSON-RPC 2.0 request handling, independent of the transport: bytes in,
//! reply bytes out (or none, for notifications).

use std::panic::{catch_unwind, AssertUnwindSafe};

use kemi_core::rpc::{RpcContext, RpcError, RpcMethod};
use serde_json::{json, Map, Value};

pub const PARSE_ERROR: i32 = -32700;
pub const INVALID_REQUEST: i32 = -32600;
pub const METHOD_NOT_FOUND: i32 = -32601;
pub const INVALID_PARAMS: i32 = -32602;
pub const INTERNAL_ERROR: i32 = -32603;

/// The method table and what handlers see.
pub struct Dispatcher {
    pub methods: Vec<RpcMethod>,
    pub ctx: RpcContext,
    /// Indent replies (`pretty_format`).
    pub pretty: bool,
}

impl Dispatcher {
    pub fn find(&self, name: &str) -> Option<&RpcMethod> {
        self.methods.iter().find(|m| m.name == name)
    }

    /// Handles one request body. `None` when nothing is to be answered (a
    /// notification, or a batch of them).
    pub fn handle_bytes(&self, body: &[u8]) -> Option<Vec<u8>> {
        let reply = match serde_json::from_slice::<Value>(body) {
            Ok(v) => self.handle_value(v),
            Err(_) => Some(parse_error()),
        }?;
        Some(self.encode(&reply))
    }

    /// A reply's bytes.
    pub fn encode(&self, reply: &Value) -> Vec<u8> {
        let out = if self.pretty {
            serde_json::to_vec_pretty(reply)
        } else {
            serde_json::to_vec(reply)
        };
        // Serialising a `Value` cannot fail; fall back to a fixed error
        // rather than unwrap.
        out.unwrap_or_else(|_| {
            br#"{"jsonrpc":"2.0","error":{"code":-32603,"message":"Internal error"},"id":null}"#
                .to_vec()
        })
    }

    /// Handles a parsed request or batch.
    pub fn handle_value(&self, v: Value) -> Option<Value> {
        match v {
            Value::Array(batch) => {
                if batch.is_empty() {
                    return Some(error_reply(Value::Null, INVALID_REQUEST, "Invalid Request"));
                }
                let replies: Vec<Value> = batch
                    .into_iter()
                    .filter_map(|one| self.handle_one(one))
                    .collect();
                (!replies.is_empty()).then_some(Value::Array(replies))
            }
            one => self.handle_one(one),
        }
    }

    fn handle_one(&self, v: Value) -> Option<Value> {
        let Value::Object(mut req) = v else {
            return Some(error_reply(Value::Null, INVALID_REQUEST, "Invalid Request"));
        };
        let id = req.remove("id");
        let reply_id = match &id {
            None => Value::Null,
            Some(id @ (Value::Null | Value::Number(_) | Value::String(_))) => id.clone(),
            Some(_) => {
                return Some(error_reply(Value::Null, INVALID_REQUEST, "Invalid Request"));
            }
        };
        // Lenient like Kamailio's jsonrpcs: a missing "jsonrpc" member is
        // accepted, a wrong one is not.
        if let Some(version) = req.get("jsonrpc") {
            if version != "2.0" {
                return Some(error_reply(reply_id, INVALID_REQUEST, "Invalid Request"));
            }
        }
        let Some(Value::String(method)) = req.remove("method") else {
            return Some(error_reply(reply_id, INVALID_REQUEST, "Invalid Request"));
        };
        let params = match req.remove("params") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a,
            Some(Value::Object(_)) => {
                let reply = error_reply(
                    reply_id,
                    INVALID_PARAMS,
                    "Invalid params: named parameters are not supported",
                );
                return id.is_some().then_some(reply);
            }
            Some(_) => return Some(error_reply(reply_id, INVALID_REQUEST, "Invalid Request")),
        };
        let result = self.call(&method, &params);
        // A request without "id" is a notification: run it, answer nothing.
        id.as_ref()?;
        Some(match result {
            Ok(value) => json!({"jsonrpc": "2.0", "result": value, "id": reply_id}),
            Err(e) => error_reply(reply_id, e.code, &e.message),
        })
    }

    /// Runs a method by name. A panicking handler is an internal error,
    /// not a dead RPC thread.
    pub fn call(&self, method: &str, params: &[Value]) -> Result<Value, RpcError> {
        let Some(m) = self.find(method) else {
            return Err(RpcError {
                code: METHOD_NOT_FOUND,
                message: "Method not found".into(),
            });
        };
        match catch_unwind(AssertUnwindSafe(|| (m.handler)(&self.ctx, params))) {
            Ok(r) => r,
            Err(_) => {
                tracing::error!("RPC method {method} panicked");
                Err(RpcError {
                    code: INTERNAL_ERROR,
                    message: "Internal error".into(),
                })
            }
        }
    }
}

pub fn parse_error() -> Value {
    error_reply(Value::Null, PARSE_ERROR, "Parse error")
}

pub fn error_reply(id: Value, code: i32, message: &str) -> Value {
    let mut error = Map::new();
    error.insert("code".into(), json!(code));
    error.insert("message".into(), json!(message));
    json!({"jsonrpc": "2.0", "error": error, "id": id})
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn echo(_: &RpcContext, p: &[Value]) -> Result<Value, RpcError> {
        Ok(Value::Array(p.to_vec()))
    }
    fn boom(_: &RpcContext, _: &[Value]) -> Result<Value, RpcError> {
        panic!("boom")
    }

    fn d() -> Dispatcher {
        Dispatcher {
            methods: vec![
                RpcMethod {
                    name: "t.echo",
                    doc: "",
                    handler: echo,
                },
                RpcMethod {
                    name: "t.boom",
                    doc: "",
                    handler: boom,
                },
            ],
            ctx: RpcContext {
                runtime: Arc::new(kemi_core::Runtime::default()),
                registry: kemi_core::Registry::new(&[]),
            },
            pretty: false,
        }
    }

    fn ask(body: &str) -> Value {
        let out = d().handle_bytes(body.as_bytes()).expect("a reply");
        serde_json::from_slice(&out).expect("JSON")
    }

    fn code(v: &Value) -> i64 {
        v["error"]["code"].as_i64().unwrap_or(0)
    }

    #[test]
    fn calls_and_errors() {
        let r = ask(r#"{"jsonrpc":"2.0","method":"t.echo","params":[1,"a"],"id":7}"#);
        assert_eq!(r, json!({"jsonrpc":"2.0","result":[1,"a"],"id":7}));
        assert_eq!(code(&ask("{nope")), -32700);
        assert_eq!(ask("{nope")["id"], Value::Null);
        assert_eq!(code(&ask("42")), -32600);
        assert_eq!(code(&ask("[]")), -32600);
        assert_eq!(code(&ask(r#"{"method":5,"id":1}"#)), -32600);
        assert_eq!(
            code(&ask(r#"{"jsonrpc":"1.0","method":"t.echo","id":1}"#)),
            -32600
        );
        assert_eq!(code(&ask(r#"{"method":"t.echo","id":{}}"#)), -32600);
        assert_eq!(code(&ask(r#"{"method":"x.y","id":1}"#)), -32601);
        assert_eq!(
            code(&ask(r#"{"method":"t.echo","params":{"a":1},"id":1}"#)),
            -32602
        );
        assert_eq!(
            code(&ask(r#"{"method":"t.echo","params":3,"id":1}"#)),
            -32600
        );
        assert_eq!(code(&ask(r#"{"method":"t.boom","id":1}"#)), -32603);
    }

    #[test]
    fn notifications_and_batches() {
        assert!(d().handle_bytes(br#"{"method":"t.echo"}"#).is_none());
        let r = ask(r#"[{"method":"t.echo","params":[1],"id":1},{"method":"t.echo"},3]"#);
        let a = r.as_array().expect("array");
        assert_eq!(a.len(), 2);
        assert_eq!(a[0]["result"], json!([1]));
        assert_eq!(code(&a[1]), -32600);
    }
}
