// SPDX-License-Identifier: GPL-2.0
//! One .wast script: every command is counted passed, failed, or skipped
//! with a reason.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use wast::core::{WastArgCore, WastRetCore};
use wast::parser::{self, ParseBuffer};
use wast::token::Span;
use wast::{QuoteWat, Wast, WastArg, WastDirective, WastExecute, WastInvoke, WastRet, Wat};

use crate::engine::{Engine, Instance, Outcome, Refused, Value};

/// The counts of one script.
#[derive(Default)]
pub struct Counts {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub skip_reasons: BTreeMap<String, usize>,
    /// Line (1-based) and what went wrong.
    pub failures: Vec<(usize, String)>,
}

impl Counts {
    pub fn add(&mut self, other: &Counts) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.skipped += other.skipped;
        for (reason, n) in &other.skip_reasons {
            *self.skip_reasons.entry(reason.clone()).or_default() += n;
        }
    }

    pub fn reasons(&self) -> String {
        self.skip_reasons
            .iter()
            .map(|(r, n)| format!("{r}: {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// How one command ended.
enum Verdict {
    Pass,
    Fail(String),
    Skip(String),
}

/// An instance, or why there is none.
#[derive(Clone)]
enum Module {
    Ready(Rc<RefCell<Box<dyn Instance>>>),
    /// Not instantiated: the skip reason for what uses it.
    Skipped(String),
    /// Failed to instantiate (counted once, as a failure).
    Broken,
}

/// The spec's trap messages and kwasm's trap names (core/src/trap.rs).
const TRAPS: &[(&str, &str)] = &[
    ("integer divide by zero", "divide_by_zero"),
    ("integer overflow", "integer_overflow"),
    ("invalid conversion to integer", "invalid_conversion"),
    ("out of bounds memory access", "out_of_bounds"),
    ("out of bounds table access", "out_of_bounds"),
    ("unreachable", "unreachable"),
    ("undefined element", "indirect_call"),
    ("uninitialized element", "indirect_call"),
    ("indirect call type mismatch", "indirect_call"),
    ("call stack exhausted", "stack_overflow"),
];

/// kwasm's trap name for a spec trap message.
pub fn trap_kind(message: &str) -> Option<&'static str> {
    TRAPS
        .iter()
        .find(|(m, _)| message.starts_with(m))
        .map(|&(_, kind)| kind)
}

/// A refusal caused by something kwasm does not offer, as a skip reason;
/// `None` for any other refusal.
pub fn unsupported(msg: &str) -> Option<String> {
    // What wasmparser says about proposals left off (core/src/validate.rs),
    // the wasm3 limit the configuration sets on valid modules, and the load
    // limit that refuses the same modules first.
    const KNOWN: &[(&str, &str)] = &[
        ("floating-point", "float"),
        ("multiple memories", "multi-memory"),
        ("multiple tables", "reference types"),
        (
            "global.get of locally defined global",
            "gc (global.get in constant expressions)",
        ),
        ("non-constant operator: i32.", "extended-const"),
        ("non-constant operator: i64.", "extended-const"),
        (
            "overran its stack height limit",
            "limit: d_m3MaxFunctionStackHeight (slots per function)",
        ),
        (
            "parameters + locals; the limit is",
            "limit: parameters + locals per function (core/src/limits.rs)",
        ),
    ];
    if let Some((_, reason)) = KNOWN.iter().find(|(m, _)| msg.contains(m)) {
        return Some((*reason).into());
    }
    if let Some(at) = msg.find(" support is not enabled") {
        let head = msg.get(..at).unwrap_or("");
        let feature = head.rsplit(": ").next().unwrap_or(head);
        return Some(feature.to_lowercase());
    }
    if let Some(rest) = msg.strip_prefix("unknown import ") {
        let module = rest.split('.').next().unwrap_or(rest);
        return Some(format!("imports {module}"));
    }
    None
}

pub struct Script<'e> {
    engine: &'e dyn Engine,
    text: &'e str,
    current: Option<Module>,
    named: HashMap<String, Module>,
    /// Modules made importable by `register`, by the name they got.
    registered: HashMap<String, Module>,
    pub counts: Counts,
}

impl<'e> Script<'e> {
    pub fn new(engine: &'e dyn Engine, text: &'e str) -> Self {
        Self {
            engine,
            text,
            current: None,
            named: HashMap::new(),
            registered: HashMap::new(),
            counts: Counts::default(),
        }
    }

    fn line(&self, span: Span) -> usize {
        span.linecol_in(self.text).0 + 1
    }

    fn record(&mut self, span: Span, verdict: Verdict) {
        match verdict {
            Verdict::Pass => self.counts.passed += 1,
            Verdict::Fail(why) => {
                self.counts.failed += 1;
                let line = self.line(span);
                self.counts.failures.push((line, why));
            }
            Verdict::Skip(reason) => {
                self.counts.skipped += 1;
                *self.counts.skip_reasons.entry(reason).or_default() += 1;
            }
        }
    }

    /// Runs the whole script; a script that does not parse is one failure.
    pub fn run(mut self) -> Counts {
        let buf = match ParseBuffer::new(self.text) {
            Ok(buf) => buf,
            Err(e) => {
                self.record(Span::from_offset(0), Verdict::Fail(format!("lexing: {e}")));
                return self.counts;
            }
        };
        let wast = match parser::parse::<Wast<'_>>(&buf) {
            Ok(wast) => wast,
            Err(e) => {
                self.record(Span::from_offset(0), Verdict::Fail(format!("parsing: {e}")));
                return self.counts;
            }
        };
        for directive in wast.directives {
            let span = directive.span();
            let verdict = self.directive(directive);
            self.record(span, verdict);
        }
        self.counts
    }

    fn directive(&mut self, directive: WastDirective<'_>) -> Verdict {
        match directive {
            WastDirective::Module(module) => self.module(module),
            WastDirective::ModuleDefinition(_) | WastDirective::ModuleInstance { .. } => {
                self.current = Some(Module::Skipped("module definitions".into()));
                Verdict::Skip("module definitions".into())
            }
            WastDirective::AssertMalformed { module, .. } => match module {
                QuoteWat::QuoteModule(..) => Verdict::Skip("text syntax (module quote)".into()),
                module => self.must_refuse(module, "malformed"),
            },
            WastDirective::AssertInvalid { module, .. } => self.must_refuse(module, "invalid"),
            WastDirective::AssertUnlinkable { module, .. } => {
                self.must_refuse(QuoteWat::Wat(module), "unlinkable")
            }
            WastDirective::AssertInvalidCustom { .. }
            | WastDirective::AssertMalformedCustom { .. } => {
                Verdict::Skip("custom sections".into())
            }
            WastDirective::Register { name, module, .. } => {
                let state = match module {
                    Some(id) => self.named.get(id.name()).cloned(),
                    None => self.current.clone(),
                };
                if let Some(state) = state {
                    self.registered.insert(name.to_string(), state);
                }
                Verdict::Skip("register".into())
            }
            WastDirective::Invoke(invoke) => match self.call(&invoke) {
                Err(v) => v,
                Ok(Outcome::Returned(_)) => Verdict::Pass,
                Ok(Outcome::Trapped { kind, msg }) => Verdict::Fail(format!(
                    "invoke \"{}\" trapped: {kind} ({msg})",
                    invoke.name
                )),
            },
            WastDirective::AssertReturn { exec, results, .. } => self.assert_return(exec, &results),
            WastDirective::AssertTrap { exec, message, .. } => self.assert_trap(exec, message),
            WastDirective::AssertExhaustion { call, message, .. } => {
                self.expect_trap(&call, message, "stack_overflow")
            }
            WastDirective::AssertException { .. } => Verdict::Skip("exceptions".into()),
            WastDirective::AssertSuspension { .. } => Verdict::Skip("stack switching".into()),
            WastDirective::Thread(_) | WastDirective::Wait { .. } => {
                Verdict::Skip("threads".into())
            }
        }
    }

    /// Binary encoding of a module; `Err` is the skip.
    fn encode(module: &mut QuoteWat<'_>) -> Result<Vec<u8>, Verdict> {
        if matches!(
            module,
            QuoteWat::QuoteComponent(..) | QuoteWat::Wat(Wat::Component(_))
        ) {
            return Err(Verdict::Skip("components".into()));
        }
        module
            .encode()
            .map_err(|_| Verdict::Skip("text the wast crate cannot encode".into()))
    }

    fn module(&mut self, mut module: QuoteWat<'_>) -> Verdict {
        let name = module.name().map(|id| id.name().to_string());
        let (state, verdict) = match Self::encode(&mut module) {
            Err(Verdict::Skip(reason)) => (Module::Skipped(reason.clone()), Verdict::Skip(reason)),
            Err(v) => (Module::Broken, v),
            Ok(bytes) => match self.engine.instantiate(&bytes) {
                Ok(inst) => (Module::Ready(Rc::new(RefCell::new(inst))), Verdict::Pass),
                Err(e) => match unsupported(&e.msg) {
                    Some(reason) => {
                        self.taint_imported(&reason);
                        (Module::Skipped(reason.clone()), Verdict::Skip(reason))
                    }
                    None => (
                        Module::Broken,
                        Verdict::Fail(format!("module refused: {e}")),
                    ),
                },
            },
        };
        if let Some(name) = name {
            self.named.insert(name, state.clone());
        }
        self.current = Some(state);
        verdict
    }

    /// A module skipped for importing a registered one would have changed
    /// that one (table elements, memory, globals): what later commands
    /// expect of it cannot be checked any more.
    fn taint_imported(&mut self, reason: &str) {
        let Some(name) = reason.strip_prefix("imports ") else {
            return;
        };
        let Some(Module::Ready(inst)) = self.registered.get(name).cloned() else {
            return;
        };
        let tainted = Module::Skipped("shared with a skipped importer".into());
        let same = |m: &Module| matches!(m, Module::Ready(i) if Rc::ptr_eq(i, &inst));
        for m in self.named.values_mut().chain(self.current.as_mut()) {
            if same(m) {
                *m = tainted.clone();
            }
        }
        self.registered.insert(name.into(), tainted);
    }

    /// A module that must not instantiate.
    fn must_refuse(&mut self, mut module: QuoteWat<'_>, what: &str) -> Verdict {
        let bytes = match Self::encode(&mut module) {
            Ok(bytes) => bytes,
            Err(v) => return v,
        };
        match self.engine.instantiate(&bytes) {
            Ok(_) => Verdict::Fail(format!("{what} module was accepted")),
            // Refused for a feature kwasm leaves off (floats, say): that
            // says nothing about what the assertion tests.
            Err(e) => match unsupported(&e.msg) {
                Some(reason) => Verdict::Skip(reason),
                None => Verdict::Pass,
            },
        }
    }

    /// The instance an action names, or the verdict for the command.
    fn instance(&self, module: Option<&str>) -> Result<Rc<RefCell<Box<dyn Instance>>>, Verdict> {
        let state = match module {
            Some(name) => self.named.get(name),
            None => self.current.as_ref(),
        };
        match state {
            Some(Module::Ready(inst)) => Ok(inst.clone()),
            Some(Module::Skipped(reason)) => Err(Verdict::Skip(reason.clone())),
            Some(Module::Broken) => Err(Verdict::Skip("module failed to instantiate".into())),
            None => Err(Verdict::Fail("no module to invoke".into())),
        }
    }

    fn call(&mut self, invoke: &WastInvoke<'_>) -> Result<Outcome, Verdict> {
        let args = invoke
            .args
            .iter()
            .map(arg)
            .collect::<Result<Vec<_>, _>>()
            .map_err(Verdict::Skip)?;
        let inst = self.instance(invoke.module.map(|id| id.name()))?;
        let result = inst.borrow_mut().invoke(invoke.name, &args);
        result.map_err(|e: Refused| match unsupported(&e.msg) {
            Some(reason) => Verdict::Skip(reason),
            None => Verdict::Fail(format!("invoke \"{}\" refused: {e}", invoke.name)),
        })
    }

    fn assert_return(&mut self, exec: WastExecute<'_>, results: &[WastRet<'_>]) -> Verdict {
        let invoke = match exec {
            WastExecute::Invoke(invoke) => invoke,
            WastExecute::Get { .. } => return Verdict::Skip("global get".into()),
            WastExecute::Wat(_) => return Verdict::Skip("module as action".into()),
        };
        let expected = match results.iter().map(expected).collect::<Result<Vec<_>, _>>() {
            Ok(e) => e,
            Err(reason) => return Verdict::Skip(reason),
        };
        match self.call(&invoke) {
            Err(v) => v,
            Ok(Outcome::Trapped { kind, msg }) => {
                Verdict::Fail(format!("\"{}\" trapped: {kind} ({msg})", invoke.name))
            }
            Ok(Outcome::Returned(got)) => {
                let ok = got.len() == expected.len()
                    && got.iter().zip(&expected).all(|(g, e)| e.contains(g));
                if ok {
                    Verdict::Pass
                } else {
                    Verdict::Fail(format!(
                        "\"{}\" returned [{}], expected [{}]",
                        invoke.name,
                        show(&got),
                        expected
                            .iter()
                            .map(|alts| show(alts).replace(", ", " | "))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                }
            }
        }
    }

    fn assert_trap(&mut self, exec: WastExecute<'_>, message: &str) -> Verdict {
        match exec {
            WastExecute::Invoke(invoke) => match trap_kind(message) {
                Some(kind) => self.expect_trap(&invoke, message, kind),
                None => Verdict::Skip(format!("trap \"{message}\"")),
            },
            // A module whose instantiation traps (start function, segments).
            WastExecute::Wat(module) => {
                let mut module = QuoteWat::Wat(module);
                let bytes = match Self::encode(&mut module) {
                    Ok(bytes) => bytes,
                    Err(v) => return v,
                };
                match self.engine.instantiate(&bytes) {
                    Ok(_) => Verdict::Fail(format!("module instantiated, expected \"{message}\"")),
                    Err(e) => match unsupported(&e.msg) {
                        Some(reason) => Verdict::Skip(reason),
                        None => Verdict::Pass,
                    },
                }
            }
            WastExecute::Get { .. } => Verdict::Skip("global get".into()),
        }
    }

    fn expect_trap(&mut self, invoke: &WastInvoke<'_>, message: &str, want: &str) -> Verdict {
        match self.call(invoke) {
            Err(v) => v,
            Ok(Outcome::Returned(got)) => Verdict::Fail(format!(
                "\"{}\" returned [{}], expected trap \"{message}\"",
                invoke.name,
                show(&got)
            )),
            Ok(Outcome::Trapped { kind, .. }) if kind == want => Verdict::Pass,
            Ok(Outcome::Trapped { kind, msg }) => Verdict::Fail(format!(
                "\"{}\" trapped with {kind} ({msg}), expected {want} (\"{message}\")",
                invoke.name
            )),
        }
    }
}

fn show(values: &[Value]) -> String {
    values
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The skip reason for a value type kwasm does not pass.
fn type_reason(what: &str) -> String {
    match what {
        "f32" | "f64" => "float".into(),
        other => other.into(),
    }
}

fn arg(a: &WastArg<'_>) -> Result<Value, String> {
    match a {
        WastArg::Core(WastArgCore::I32(v)) => Ok(Value::I32(*v)),
        WastArg::Core(WastArgCore::I64(v)) => Ok(Value::I64(*v)),
        WastArg::Core(WastArgCore::F32(_)) => Err(type_reason("f32")),
        WastArg::Core(WastArgCore::F64(_)) => Err(type_reason("f64")),
        WastArg::Core(WastArgCore::V128(_)) => Err(type_reason("v128")),
        _ => Err(type_reason("reference types")),
    }
}

/// The values an expected result accepts (several for `either`).
fn expected(r: &WastRet<'_>) -> Result<Vec<Value>, String> {
    fn core(r: &WastRetCore<'_>) -> Result<Vec<Value>, String> {
        match r {
            WastRetCore::I32(v) => Ok(vec![Value::I32(*v)]),
            WastRetCore::I64(v) => Ok(vec![Value::I64(*v)]),
            WastRetCore::F32(_) => Err(type_reason("f32")),
            WastRetCore::F64(_) => Err(type_reason("f64")),
            WastRetCore::V128(_) => Err(type_reason("v128")),
            WastRetCore::Either(alts) => {
                let mut all = Vec::new();
                for alt in alts {
                    all.extend(core(alt)?);
                }
                Ok(all)
            }
            _ => Err(type_reason("reference types")),
        }
    }
    match r {
        WastRet::Core(r) => core(r),
        #[allow(unreachable_patterns)]
        _ => Err("components".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trap_messages_map_to_kinds() {
        assert_eq!(trap_kind("integer overflow"), Some("integer_overflow"));
        assert_eq!(trap_kind("uninitialized element 2"), Some("indirect_call"));
        assert_eq!(trap_kind("unreachable executed"), Some("unreachable"));
        assert_eq!(trap_kind("something new"), None);
    }

    #[test]
    fn refusals_for_missing_features_are_skips() {
        assert_eq!(
            unsupported("function 3 at offset 0x40: floating-point support is disabled").as_deref(),
            Some("float")
        );
        assert_eq!(
            unsupported("at offset 0x10: SIMD support is not enabled").as_deref(),
            Some("simd")
        );
        assert_eq!(
            unsupported(
                "unknown import spectest.print_i32 (function): kwasm offers no such host function"
            )
            .as_deref(),
            Some("imports spectest")
        );
        assert_eq!(unsupported("at offset 0x8: type mismatch"), None);
    }
}
