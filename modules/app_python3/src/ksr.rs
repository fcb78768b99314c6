//! The `KSR` Python module: one C function per export, all sharing one
//! generic implementation, plus `KSR.x` and the current-context slot.
//!
//! Why raw `METH_FASTCALL` functions and not pyo3's `#[pyfunction]` or
//! closures: a fastcall function receives its arguments as a C array (no
//! tuple built per call), and one generic function serves every export,
//! given the `&'static Export` through its `self` object (a capsule). The
//! arguments are read into a stack buffer with strings borrowed from the
//! Python objects (UTF-8 cached inside each `str`), so a KSR call allocates
//! nothing beyond what the export itself does and the Python result.

use std::cell::Cell;
use std::ffi::{c_void, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::Arc;

use kemi_core::ksr::x::ModfError;
use kemi_core::{Arg, ArgError, CallError, Context, Export, Registry, Ret, Xval};
use pyo3::exceptions::{PyRuntimeError, PySystemExit, PyTypeError, PyValueError};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyCFunction, PyDict, PyList, PyModule, PyTuple};
use smallvec::SmallVec;

/// How deep an xval dict/array may nest before conversion gives up (a
/// module bug, not script input).
const MAX_XVAL_DEPTH: u32 = 32;

thread_local! {
    /// The context KSR calls made on this thread act on. Every worker runs
    /// its callbacks on its own thread, so the slot is per thread; the
    /// engine points it at the message's context for one callback.
    static CURRENT: Cell<*mut Context> = const { Cell::new(ptr::null_mut()) };
}

/// Points this thread's slot at a context until dropped, then restores
/// what was there (a callback may run while another one is set up, for
/// example an engine built from inside a test callback).
pub(crate) struct Current {
    prev: *mut Context,
}

impl Current {
    /// The caller keeps `ctx` exclusively borrowed (unused) while the
    /// guard lives.
    pub(crate) fn set(ctx: *mut Context) -> Self {
        Current {
            prev: CURRENT.with(|c| c.replace(ctx)),
        }
    }
}

impl Drop for Current {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.prev));
    }
}

/// Runs `f` on the current context, taken out of the slot while `f` runs
/// so a nested KSR call finds the slot empty instead of aliasing it.
/// `None` when no message is being routed on this thread (a thread the
/// script started, or a call from inside another KSR call).
pub(crate) fn with_current<R>(f: impl FnOnce(&mut Context) -> R) -> Option<R> {
    let ptr = CURRENT.with(|c| c.replace(ptr::null_mut()));
    if ptr.is_null() {
        return None;
    }
    // Put the pointer back even if `f` unwinds.
    struct Restore(*mut Context);
    impl Drop for Restore {
        fn drop(&mut self) {
            CURRENT.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(ptr);
    // SAFETY: the engine set the pointer from a `&mut Context` it keeps
    // unused while the callback runs; it was taken out of the slot above,
    // so this is the only reference.
    Some(f(unsafe { &mut *ptr }))
}

/// The error every KSR call raises once the callback has exited: a script
/// that caught `SystemExit` and went on acts on the message no more.
fn exit_error() -> PyErr {
    PySystemExit::new_err(0)
}

/// Builds the `KSR` module from `registry`: core functions on `KSR`
/// itself, `KSR.<name>` per other submodule, and `KSR.x`. Each submodule
/// is also a module object named `KSR.<name>`, so `import KSR.pv` works
/// once they are in `sys.modules` (see [`install`]). `version` becomes
/// `KSR.__version__` (Kamailio: 1003 for app_python3, 1008 for
/// app_python3s).
pub(crate) fn build<'py>(
    py: Python<'py>,
    registry: &Arc<Registry>,
    version: i64,
) -> PyResult<Bound<'py, PyModule>> {
    let ksr = PyModule::new(py, "KSR")?;
    ksr.setattr("__version__", version)?;
    for sub in registry.submodules() {
        let target = if sub.name.is_empty() {
            ksr.clone()
        } else {
            match ksr.getattr(sub.name) {
                Ok(existing) => existing.cast_into::<PyModule>()?,
                Err(_) => {
                    let m = PyModule::new(py, &format!("KSR.{}", sub.name))?;
                    ksr.setattr(sub.name, &m)?;
                    m
                }
            }
        };
        for export in sub.exports {
            target.setattr(export.name, export_function(py, export)?)?;
        }
    }
    // Set last so a module can never shadow the engine's own functions.
    // The documented list drives what is defined, so docs and engine agree.
    let x = PyModule::new(py, "KSR.x")?;
    for f in kemi_core::ksr::x::PYTHON {
        let body = match f.name {
            "exit" => wrap_pyfunction!(x_exit, &x)?,
            "drop" => wrap_pyfunction!(x_drop, &x)?,
            "modf" => modf_function(py, Arc::clone(registry))?,
            other => {
                return Err(pyo3::exceptions::PyRuntimeError::new_err(format!(
                    "KSR.x.{other} is listed for Python but the engine has no body for it"
                )))
            }
        };
        x.add_function(body)?;
    }
    ksr.setattr("x", x)?;
    Ok(ksr)
}

/// Puts `KSR` and its submodules in `sys.modules`, so `import KSR`,
/// `import KSR.pv` and `from KSR import pv` find them.
pub(crate) fn install(py: Python<'_>, ksr: &Bound<'_, PyModule>) -> PyResult<()> {
    let modules = py.import("sys")?.getattr("modules")?;
    modules.set_item("KSR", ksr)?;
    for (name, value) in ksr.dict().iter() {
        if let Ok(sub) = value.cast::<PyModule>() {
            modules.set_item(format!("KSR.{}", name.str()?), sub)?;
        }
    }
    Ok(())
}

/// The Python function object for one export: a fastcall C function whose
/// `self` is a capsule holding the `&'static Export`.
fn export_function<'py>(py: Python<'py>, export: &'static Export) -> PyResult<Bound<'py, PyAny>> {
    // The method definition must outlive every function object made from
    // it, which scripts may keep anywhere: it is leaked, once per export
    // per KSR module built (once per process in the proxy).
    let name = CString::new(export.name)
        .map_err(|_| PyValueError::new_err(format!("bad export name {:?}", export.name)))?;
    let doc = CString::new(format!("{}\n\n{}", export.signature(), export.doc.trim()))
        .unwrap_or_else(|_| CString::from(c"(documentation not available)"));
    let def: &'static mut ffi::PyMethodDef = Box::leak(Box::new(ffi::PyMethodDef {
        ml_name: Box::leak(name.into_boxed_c_str()).as_ptr(),
        ml_meth: ffi::PyMethodDefPointer {
            PyCFunctionFastWithKeywords: ksr_call,
        },
        // Keywords accepted only to refuse them with the function's
        // signature (CPython's own message would name the capsule).
        ml_flags: ffi::METH_FASTCALL | ffi::METH_KEYWORDS,
        ml_doc: Box::leak(doc.into_boxed_c_str()).as_ptr(),
    }));
    // SAFETY: plain CPython object construction with the GIL held; both
    // results are checked for NULL (a raised error).
    unsafe {
        let capsule = ffi::PyCapsule_New(export as *const Export as *mut c_void, ptr::null(), None);
        let capsule = Bound::from_owned_ptr_or_err(py, capsule)?;
        let f = ffi::PyCFunction_NewEx(def, capsule.as_ptr(), ptr::null_mut());
        Bound::from_owned_ptr_or_err(py, f)
    }
}

/// The C function behind every `KSR.*` export.
unsafe extern "C" fn ksr_call(
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // A panic must not unwind into CPython's C frames.
    let result = catch_unwind(AssertUnwindSafe(|| {
        Python::attach(|py| {
            let export = ffi::PyCapsule_GetPointer(slf, ptr::null()) as *const Export;
            if export.is_null() {
                return ptr::null_mut();
            }
            // SAFETY: `export_function` made the capsule from a `&'static Export`.
            let export: &'static Export = &*export;
            if !kwnames.is_null() && ffi::PyTuple_Size(kwnames) > 0 {
                PyTypeError::new_err(format!(
                    "{}: keyword arguments are not accepted, pass them in order [signature: {}]",
                    export.path(),
                    export.signature()
                ))
                .restore(py);
                return ptr::null_mut();
            }
            let args = if nargs > 0 && !args.is_null() {
                std::slice::from_raw_parts(args, usize::try_from(nargs).unwrap_or(0))
            } else {
                &[]
            };
            match call_export(py, export, args) {
                Ok(obj) => obj.into_ptr(),
                Err(e) => {
                    e.restore(py);
                    ptr::null_mut()
                }
            }
        })
    }));
    result.unwrap_or_else(|_| {
        Python::attach(|py| {
            PyRuntimeError::new_err("a KSR function panicked (a bug in its module)").restore(py)
        });
        ptr::null_mut()
    })
}

fn call_export<'py>(
    py: Python<'py>,
    export: &'static Export,
    args: &[*mut ffi::PyObject],
) -> PyResult<Bound<'py, PyAny>> {
    let mut converted: SmallVec<[Arg<'_>; 8]> = SmallVec::new();
    for &obj in args {
        // SAFETY: CPython passes valid borrowed references that live for
        // the whole call, so strings borrowed from them do too.
        converted.push(unsafe { read_arg(obj) });
    }
    let outcome = with_current(|ctx| {
        if ctx.exit {
            return Err(exit_error());
        }
        let result = catch_unwind(AssertUnwindSafe(|| export.invoke(ctx, &converted)));
        match result {
            Ok(Ok(ret)) => Ok(ret),
            Ok(Err(e)) => Err(arg_error(&e, &converted)),
            Err(_) => Err(PyRuntimeError::new_err(format!(
                "{}: the function panicked (a bug in its module) [signature: {}]",
                export.path(),
                export.signature()
            ))),
        }
    });
    let ret = match outcome {
        Some(result) => result?,
        None => {
            // Kamailio's other engines do the same without a message: log, false.
            tracing::error!(
                target: "app_python3",
                "{}: no message is being routed on this thread (a thread the script started, or a KSR call from inside another?)",
                export.path()
            );
            return Ok(pyo3::types::PyBool::new(py, false).to_owned().into_any());
        }
    };
    ret_to_py(py, export, &ret)
}

/// A refused argument as the Python exception scripts expect: a value of
/// the right family that does not convert (`"abc"` for an int) is a
/// `ValueError`, anything else (count, wrong type) a `TypeError`.
fn arg_error(e: &CallError, args: &[Arg<'_>]) -> PyErr {
    let message = e.to_string();
    match &e.problem {
        ArgError::Kind { index, .. } if matches!(args.get(*index), Some(Arg::Str(_))) => {
            PyValueError::new_err(message)
        }
        _ => PyTypeError::new_err(message),
    }
}

/// Reads one argument, borrowing a `str`'s UTF-8 bytes from the object.
unsafe fn read_arg<'a>(obj: *mut ffi::PyObject) -> Arg<'a> {
    if obj.is_null() {
        return Arg::Other("NULL");
    }
    // bool first: it is a subclass of int.
    if ffi::PyBool_Check(obj) != 0 {
        return Arg::Bool(obj == ffi::Py_True());
    }
    if ffi::PyLong_Check(obj) != 0 {
        let n = ffi::PyLong_AsLongLong(obj);
        if n == -1 && !ffi::PyErr_Occurred().is_null() {
            ffi::PyErr_Clear();
            return Arg::Other("int (too large for 64 bits)");
        }
        return Arg::Int(n);
    }
    if ffi::PyFloat_Check(obj) != 0 {
        return Arg::Float(ffi::PyFloat_AsDouble(obj));
    }
    if ffi::PyUnicode_Check(obj) != 0 {
        let mut len: ffi::Py_ssize_t = 0;
        let p = ffi::PyUnicode_AsUTF8AndSize(obj, &mut len);
        if p.is_null() {
            ffi::PyErr_Clear();
            return Arg::Other("str (not encodable as UTF-8)");
        }
        return Arg::Str(std::slice::from_raw_parts(
            p as *const u8,
            usize::try_from(len).unwrap_or(0),
        ));
    }
    Arg::Other(type_name(obj))
}

/// A static name for the Python types scripts commonly pass by mistake.
unsafe fn type_name(obj: *mut ffi::PyObject) -> &'static str {
    if obj == ffi::Py_None() {
        "None"
    } else if ffi::PyBytes_Check(obj) != 0 {
        "bytes"
    } else if ffi::PyList_Check(obj) != 0 {
        "list"
    } else if ffi::PyTuple_Check(obj) != 0 {
        "tuple"
    } else if ffi::PyDict_Check(obj) != 0 {
        "dict"
    } else if ffi::PyCallable_Check(obj) != 0 {
        "a callable"
    } else {
        "an object"
    }
}

/// Converts a result: int as `int`, bool as `bool`, `none` as 0 (what
/// Kamailio's Python engines return), xval as int/str/None, dict as
/// `dict`, array as `list` (Kamailio gives None there; converting is more
/// useful and no script can rely on None).
fn ret_to_py<'py>(py: Python<'py>, export: &Export, ret: &Ret) -> PyResult<Bound<'py, PyAny>> {
    match ret {
        Ret::Int(n) => Ok(n.into_pyobject(py)?.into_any()),
        Ret::Bool(b) => Ok(pyo3::types::PyBool::new(py, *b).to_owned().into_any()),
        Ret::None => Ok(0i32.into_pyobject(py)?.into_any()),
        Ret::Xval(x) => xval_to_py(py, x, 0).ok_or_else(|| {
            PyRuntimeError::new_err(format!(
                "{}: result nested too deeply to convert [signature: {}]",
                export.path(),
                export.signature()
            ))
        })?,
    }
}

/// `None` when the value nests deeper than [`MAX_XVAL_DEPTH`].
fn xval_to_py<'py>(py: Python<'py>, x: &Xval, depth: u32) -> Option<PyResult<Bound<'py, PyAny>>> {
    if depth > MAX_XVAL_DEPTH {
        return None;
    }
    let value = match x {
        Xval::Null => Ok(py.None().into_bound(py)),
        Xval::Int(n) => n
            .into_pyobject(py)
            .map(|v| v.into_any())
            .map_err(Into::into),
        Xval::Long(n) => n
            .into_pyobject(py)
            .map(|v| v.into_any())
            .map_err(Into::into),
        Xval::Str(s) => Ok(pyo3::types::PyString::new(py, s).into_any()),
        Xval::Dict(items) => {
            let dict = PyDict::new(py);
            for (k, v) in items {
                let value = match xval_to_py(py, v, depth + 1)? {
                    Ok(v) => v,
                    Err(e) => return Some(Err(e)),
                };
                if let Err(e) = dict.set_item(k.as_ref(), value) {
                    return Some(Err(e));
                }
            }
            Ok(dict.into_any())
        }
        Xval::Array(items) => {
            let list = PyList::empty(py);
            for v in items {
                let value = match xval_to_py(py, v, depth + 1)? {
                    Ok(v) => v,
                    Err(e) => return Some(Err(e)),
                };
                if let Err(e) = list.append(value) {
                    return Some(Err(e));
                }
            }
            Ok(list.into_any())
        }
    };
    Some(value)
}

/// `KSR.x.exit()`: ends the callback, as `exit()` does (both raise
/// `SystemExit`, which the engine treats as a normal end). Kamailio's
/// Python engines only have `exit()`; this one is here so scripts can be
/// written the same way in every engine.
#[pyfunction(name = "exit")]
fn x_exit() -> PyResult<()> {
    with_current(|ctx| ctx.exit = true);
    Err(exit_error())
}

/// `KSR.x.drop()`: `KSR.set_drop()` then `KSR.x.exit()`.
#[pyfunction(name = "drop")]
fn x_drop() -> PyResult<()> {
    with_current(|ctx| {
        // The core's rule, not a copy of it: no effect in the request route.
        kemi_core::ksr::core::kemi::set_drop(ctx);
        ctx.exit = true;
    });
    Err(exit_error())
}

/// `KSR.x.modf(fname, ...)`: a function holding the registry `KSR` was
/// built from, where it looks `fname` up (see [`modf`]).
fn modf_function<'py>(
    py: Python<'py>,
    registry: Arc<Registry>,
) -> PyResult<Bound<'py, PyCFunction>> {
    PyCFunction::new_closure(
        py,
        Some(c"modf"),
        Some(
            c"modf(fname, *params) -> int\n\nRuns the loaded function with that kamailio.cfg name.",
        ),
        move |args: &Bound<'_, PyTuple>, kwargs: Option<&Bound<'_, PyDict>>| {
            if kwargs.is_some_and(|k| !k.is_empty()) {
                return Err(PyTypeError::new_err(
                    "KSR.x.modf: keyword arguments are not accepted, pass them in order",
                ));
            }
            modf(&registry, args)
        },
    )
}

/// Runs the function of the loaded modules named by the first of `args`
/// (its kamailio.cfg name) with the others, as [`kemi_core::ksr::x::modf`]
/// describes: `KSR.x.modf()` and `msg.call_function()`. Wrong arguments
/// raise the exceptions a KSR function raises for them.
pub(crate) fn modf(registry: &Registry, args: &Bound<'_, PyTuple>) -> PyResult<i32> {
    // The tuple holds the objects, so strings borrowed from them live as
    // long as the call.
    let mut converted: SmallVec<[Arg<'_>; 8]> = SmallVec::new();
    for obj in args.iter() {
        // SAFETY: `obj` is a live element of `args`, which outlives `converted`.
        converted.push(unsafe { read_arg(obj.as_ptr()) });
    }
    let outcome = with_current(|ctx| {
        if ctx.exit {
            return Err(exit_error());
        }
        kemi_core::ksr::x::modf(ctx, registry, &converted).map_err(|e| modf_error(&e, &converted))
    });
    outcome.unwrap_or_else(|| {
        tracing::error!(
            target: "app_python3",
            "KSR.x.modf: no message is being routed on this thread (a thread the script started, or a KSR call from inside another?)"
        );
        Ok(-1)
    })
}

/// A refused `KSR.x.modf` call as the exception a KSR function raises:
/// a string that does not convert is a `ValueError`, a count or type
/// mismatch a `TypeError`, a panic a `RuntimeError`.
fn modf_error(e: &ModfError, args: &[Arg<'_>]) -> PyErr {
    let message = e.to_string();
    match e {
        ModfError::Panicked { .. } => PyRuntimeError::new_err(message),
        _ if matches!(
            e.bad_argument().and_then(|i| args.get(i)),
            Some(Arg::Str(_))
        ) =>
        {
            PyValueError::new_err(message)
        }
        _ => PyTypeError::new_err(message),
    }
}
