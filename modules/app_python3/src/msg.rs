//! The `msg` object app_python3 passes to every callback
//! (`ksr_request_route(self, msg)`), with the members of Kamailio's that
//! scripts use: `Type`, `Method`, `Status`, `RURI`, `src_address`,
//! `dst_address`, `getHeader()`, `rewrite_ruri()`, `set_dst_uri()` and
//! `call_function()`.
//!
//! It acts on the message being routed on the calling thread, and only
//! while the callback it was given to runs: Kamailio invalidates it after
//! the call, and so does the engine here ([`Msg::invalidate`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use kemi_core::{Context, Registry};
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::ksr;

/// The SIP message of one callback, as Python sees it.
#[pyclass(name = "msg", module = "KSR", frozen)]
pub struct Msg {
    valid: AtomicBool,
    /// Where `call_function()` looks function names up.
    registry: Arc<Registry>,
}

impl Msg {
    pub(crate) fn new(registry: Arc<Registry>) -> Self {
        Msg {
            valid: AtomicBool::new(true),
            registry,
        }
    }

    /// Called when the callback returns: a script that kept the object
    /// gets an error from it afterwards instead of another message.
    pub(crate) fn invalidate(&self) {
        self.valid.store(false, Ordering::Relaxed);
    }

    fn check_valid(&self) -> PyResult<()> {
        if !self.valid.load(Ordering::Relaxed) {
            return Err(PyRuntimeError::new_err(
                "this msg object is only valid during the callback it was passed to",
            ));
        }
        Ok(())
    }

    fn with<R>(&self, f: impl FnOnce(&mut Context) -> PyResult<R>) -> PyResult<R> {
        self.check_valid()?;
        ksr::with_current(f).unwrap_or_else(|| {
            Err(PyRuntimeError::new_err(
                "msg used outside the worker routing it (from another thread?)",
            ))
        })
    }
}

fn not_request(what: &str) -> PyErr {
    PyTypeError::new_err(format!("Not a request message - {what}."))
}

#[pymethods]
impl Msg {
    /// `"SIP_REQUEST"` or `"SIP_REPLY"`.
    #[getter(Type)]
    fn kind(&self) -> PyResult<&'static str> {
        self.with(|ctx| {
            Ok(if ctx.msg.is_request() {
                "SIP_REQUEST"
            } else {
                "SIP_REPLY"
            })
        })
    }

    /// The request method; a `TypeError` for a reply.
    #[getter(Method)]
    fn method(&self) -> PyResult<String> {
        self.with(|ctx| {
            if !ctx.msg.is_request() {
                return Err(not_request("no method available"));
            }
            Ok(ctx.msg.method_str().to_string())
        })
    }

    /// The reply's status code, as a string; a `TypeError` for a request.
    #[getter(Status)]
    fn status(&self) -> PyResult<String> {
        self.with(|ctx| match ctx.msg.status_code() {
            Some(code) => Ok(code.to_string()),
            None => Err(PyTypeError::new_err(
                "Not a non-reply message - no status available.",
            )),
        })
    }

    /// The Request-URI as the script sees it (a rewritten one if set).
    #[getter(RURI)]
    fn ruri(&self) -> PyResult<String> {
        self.with(|ctx| {
            if !ctx.msg.is_request() {
                return Err(not_request("RURI is not available"));
            }
            Ok(ctx.ruri().to_string())
        })
    }

    /// `(ip, port)` the message came from.
    #[getter]
    fn src_address<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let src = self.with(|ctx| Ok(ctx.recv.src))?;
        PyTuple::new(
            py,
            [
                src.ip().to_string().into_pyobject(py)?.into_any(),
                src.port().into_pyobject(py)?.into_any(),
            ],
        )
    }

    /// `(ip, port)` of the local socket it arrived on.
    #[getter]
    fn dst_address<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let local = self.with(|ctx| Ok(ctx.recv.local))?;
        PyTuple::new(
            py,
            [
                local.ip().to_string().into_pyobject(py)?.into_any(),
                local.port().into_pyobject(py)?.into_any(),
            ],
        )
    }

    /// The body of the first header named `name` (any case, compact forms
    /// included), or `None`.
    #[pyo3(name = "getHeader")]
    fn get_header(&self, name: &str) -> PyResult<Option<String>> {
        self.with(|ctx| Ok(ctx.msg.header_by_name(name).map(str::to_string)))
    }

    /// Sets a new Request-URI, as `KSR.seturi()`.
    fn rewrite_ruri(&self, uri: &str) -> PyResult<()> {
        self.with(|ctx| {
            if !ctx.msg.is_request() {
                return Err(not_request("rewrite is not possible"));
            }
            if kemi_core::ksr::core::kemi::seturi(ctx, uri) {
                Ok(())
            } else {
                Err(PyRuntimeError::new_err(format!(
                    "msg.rewrite_ruri: cannot use {uri:?} as Request-URI"
                )))
            }
        })
    }

    /// Sets the destination URI (`$du`), as `KSR.setdsturi()`.
    fn set_dst_uri(&self, uri: &str) -> PyResult<()> {
        self.with(|ctx| {
            if !ctx.msg.is_request() {
                return Err(not_request("set destination is not possible"));
            }
            kemi_core::ksr::core::kemi::setdsturi(ctx, uri);
            Ok(())
        })
    }

    /// Runs the loaded function with the kamailio.cfg name `fname`, as
    /// `KSR.x.modf(fname, *params)` does.
    #[pyo3(signature = (*args))]
    fn call_function(&self, args: &Bound<'_, PyTuple>) -> PyResult<i32> {
        self.check_valid()?;
        ksr::modf(&self.registry, args)
    }
}
