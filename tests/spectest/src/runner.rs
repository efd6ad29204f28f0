// SPDX-License-Identifier: GPL-2.0
//! One .wast script: every command is counted passed, failed, or skipped
//! with a reason.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use wast::core::{WastArgCore, WastRetCore};
use wast::lexer::Lexer;
use wast::parser::{self, ParseBuffer};
use wast::token::Span;
use wast::{QuoteWat, Wast, WastArg, WastDirective, WastExecute, WastInvoke, WastRet, Wat};

use crate::engine::{Engine, Instance, Outcome, Refused, Value};
use crate::link::{self, Info, Provided, Resolution};

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
    /// Not an assertion (`register`): not counted.
    Done,
}

/// A module's binary as it was (or would have been) uploaded: after the
/// runner's linking (src/link.rs) when that succeeded, else as the script
/// gives it. Stateless imports are copied from it even when the module
/// itself is not running.
pub struct Binary {
    wasm: Vec<u8>,
    info: Info,
}

impl Binary {
    fn new(wasm: Vec<u8>) -> Rc<Binary> {
        let info = Info::parse(&wasm).unwrap_or_default();
        Rc::new(Binary { wasm, info })
    }
}

/// An instance and the module uploaded for it.
pub struct Loaded {
    inst: RefCell<Box<dyn Instance>>,
    bin: Rc<Binary>,
}

/// A registered module imported from: its binary, its instance if it runs.
type Source = (Rc<Binary>, Option<Rc<Loaded>>);

/// An instance, or why there is none.
#[derive(Clone)]
enum Module {
    Ready(Rc<Loaded>),
    /// Not instantiated: the skip reason for what uses it.
    Skipped(String, Option<Rc<Binary>>),
    /// Failed to instantiate (counted once, as a failure).
    Broken(Option<Rc<Binary>>),
}

impl Module {
    fn binary(&self) -> Option<Rc<Binary>> {
        match self {
            Module::Ready(l) => Some(l.bin.clone()),
            Module::Skipped(_, bin) | Module::Broken(bin) => bin.clone(),
        }
    }
}

/// spectest's memory or table: the runner gives a copy to the first module
/// that imports it; a second importer would share it, which a copy cannot
/// model.
enum Share {
    Fresh,
    /// The instance holding the copy.
    Claimed(Rc<Loaded>),
    /// Imported by a module that is not running (skipped, refused, trapped
    /// at instantiation): its effects on the memory are unknown.
    Used,
}

/// How an instantiation went.
enum Load {
    Ready(Rc<Loaded>),
    /// The engine refused it.
    Refused(Refused, Rc<Binary>),
    /// The runner's linking failed, as the spec's would.
    Unlinkable(String),
    /// The runner cannot provide its imports: the reason.
    Skip(String, Rc<Binary>),
    /// The runner's own error.
    Error(String),
}

/// The module names of kwasm's own host functions (core/src/filter/hostfns.rs):
/// imports of these are left to the engine.
const KERNEL_MODULES: &[&str] = &["kwasm", "custom"];

/// KWASM_INVOKE_NAME_LEN of include/uapi/kwasm.h: the export name and its
/// NUL.
const INVOKE_NAME_LEN: usize = 128;

/// Why an instance's state no longer follows the script.
const SHARED: &str = "shared with a skipped importer";
const AFTER_LIMIT: &str = "state after a kwasm limit";

/// The spec's trap messages and kwasm's trap names (core/src/engine/trap.rs).
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
    // What wasmparser says about proposals left off (core/src/engine/validate.rs),
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
            "limit: parameters + locals per function",
        ),
    ];
    if let Some((_, reason)) = KNOWN.iter().find(|(m, _)| msg.contains(m)) {
        return Some((*reason).into());
    }
    // core/src/engine/limits.rs: "<what> <value> <unit>; the limit is <limit>".
    if let Some((head, limit)) = msg.split_once("; the limit is ") {
        let words: Vec<&str> = head.split(' ').collect();
        if let Some(at) = words.iter().rposition(|w| w.parse::<u64>().is_ok()) {
            let what = words.get(..at).unwrap_or_default().join(" ");
            let unit = words.get(at + 1..).unwrap_or_default().join(" ");
            let limit = limit.split_whitespace().next().unwrap_or(limit);
            return Some(format!("limit: {what} at most {limit} {unit}"));
        }
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
    spectest_memory: Share,
    spectest_table: Share,
    /// Print every command's line and verdict (`--trace`).
    pub trace: bool,
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
            spectest_memory: Share::Fresh,
            spectest_table: Share::Fresh,
            trace: false,
            counts: Counts::default(),
        }
    }

    fn line(&self, span: Span) -> usize {
        span.linecol_in(self.text).0 + 1
    }

    fn record(&mut self, span: Span, verdict: Verdict) {
        if self.trace {
            let line = self.line(span);
            match &verdict {
                Verdict::Pass => println!("  {line}: pass"),
                Verdict::Fail(why) => println!("  {line}: FAIL {why}"),
                Verdict::Skip(reason) => println!("  {line}: skip ({reason})"),
                Verdict::Done => {}
            }
        }
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
            Verdict::Done => {}
        }
    }

    /// Runs the whole script; a script that does not parse is one failure.
    pub fn run(mut self) -> Counts {
        // names.wast has bidirectional-text characters in names on purpose.
        let mut lexer = Lexer::new(self.text);
        lexer.allow_confusing_unicode(true);
        let buf = match ParseBuffer::new_with_lexer(lexer) {
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
                self.current = Some(Module::Skipped("module definitions".into(), None));
                Verdict::Skip("module definitions".into())
            }
            WastDirective::AssertMalformed { module, .. } => match module {
                // kwasm loads binaries: malformed text never reaches it.
                QuoteWat::QuoteModule(..) => {
                    let mut module = module;
                    match module.encode() {
                        Err(_) => {
                            Verdict::Skip("malformed text (refused by the wast parser)".into())
                        }
                        Ok(_) => Verdict::Skip("malformed text the wast parser accepts".into()),
                    }
                }
                module => self.must_refuse(module, "malformed"),
            },
            WastDirective::AssertInvalid { module, .. } => self.must_refuse(module, "invalid"),
            WastDirective::AssertUnlinkable { module, .. } => self.unlinkable(module),
            WastDirective::AssertInvalidCustom { .. }
            | WastDirective::AssertMalformedCustom { .. } => {
                Verdict::Skip("custom sections".into())
            }
            WastDirective::Register { name, module, .. } => {
                let state = match module {
                    Some(id) => self.named.get(id.name()).cloned(),
                    None => self.current.clone(),
                };
                let Some(state) = state else {
                    return Verdict::Fail("register: no such module".into());
                };
                self.registered.insert(name.to_string(), state);
                Verdict::Done
            }
            WastDirective::Invoke(invoke) => match self.call(&invoke) {
                Err(v) => v,
                Ok((_, Outcome::Returned(_))) => Verdict::Pass,
                Ok((_, Outcome::Trapped { kind, msg })) => Verdict::Fail(format!(
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

    /// Uploads `wasm` as it is.
    fn upload(&self, wasm: Vec<u8>) -> Load {
        let bin = Binary::new(wasm);
        match self.engine.instantiate(&bin.wasm) {
            Ok(inst) => Load::Ready(Rc::new(Loaded {
                inst: RefCell::new(inst),
                bin,
            })),
            Err(e) => Load::Refused(e, bin),
        }
    }

    /// Links `wasm` as the spec would (src/link.rs) and instantiates it.
    fn load(&mut self, wasm: Vec<u8>) -> Load {
        let Ok(info) = Info::parse(&wasm) else {
            // Malformed: the engine says so.
            return self.upload(wasm);
        };
        let for_kernel = |m: &str| KERNEL_MODULES.contains(&m);
        if info.imports.is_empty() && !info.gettable().is_empty() {
            // Only the getters of its globals added.
            return match link::rewrite(&wasm, &[]) {
                Ok(wasm) => self.upload(wasm),
                Err(e) => Load::Error(format!("the runner's rewrite failed: {e}")),
            };
        }
        if info.imports.iter().all(|i| for_kernel(&i.module)) {
            return self.upload(wasm);
        }
        // What each import comes from, held here for the rewrite: the
        // registered module, its instance if it runs.
        let sources: Vec<Option<Source>> = info
            .imports
            .iter()
            .map(|i| {
                let m = self.registered.get(&i.module)?;
                let running = match m {
                    Module::Ready(l) => Some(l.clone()),
                    _ => None,
                };
                Some((m.binary()?, running))
            })
            .collect();
        // A module that neither reads nor changes spectest's memory (table)
        // can have a copy of it whoever else holds it; one that does can
        // only while nobody else does.
        let sharing = |share: &Share, touches: bool, grows: fn(&Info) -> bool| link::Sharing {
            shared: touches && !matches!(share, Share::Fresh),
            may_have_grown: match share {
                Share::Fresh => false,
                Share::Claimed(l) => grows(&l.bin.info),
                Share::Used => true,
            },
        };
        let memory = sharing(&self.spectest_memory, info.touches_memory, |i| {
            i.grows_memory
        });
        let table = sharing(&self.spectest_table, info.touches_table, |i| i.grows_table);
        let (mut uses_memory, mut uses_table, mut kernel) = (false, false, false);
        let mut provided: Vec<Provided<'_>> = Vec::new();
        let mut unlinkable = None;
        let mut skip = None;
        let mut shared: Vec<Rc<Loaded>> = Vec::new();
        for (import, source) in info.imports.iter().zip(&sources) {
            let resolution = match (import.module.as_str(), source) {
                ("spectest", _) => {
                    uses_memory |=
                        matches!(import.ty, wasmparser::TypeRef::Memory(_)) && info.touches_memory;
                    uses_table |=
                        matches!(import.ty, wasmparser::TypeRef::Table(_)) && info.touches_table;
                    link::spectest(&info, import, memory, table)
                }
                (m, _) if for_kernel(m) => {
                    kernel = true;
                    continue;
                }
                (_, Some((bin, running))) => {
                    let r = link::registered(&info, import, &bin.wasm, &bin.info);
                    if let (
                        Resolution::Skip {
                            shares_state: true, ..
                        },
                        Some(l),
                    ) = (&r, running)
                    {
                        shared.push(l.clone());
                    }
                    r
                }
                (m, None) => match self.registered.get(m) {
                    Some(_) => Resolution::Skip {
                        reason: "imports a module that is not running",
                        shares_state: false,
                    },
                    None => Resolution::Unlinkable(format!("unknown import {m}.{}", import.name)),
                },
            };
            match resolution {
                Resolution::Provide(p) => provided.push(p),
                Resolution::Unlinkable(why) => {
                    unlinkable.get_or_insert(why);
                }
                Resolution::Skip { reason, .. } => {
                    skip.get_or_insert(reason);
                }
            }
        }
        if let Some(why) = unlinkable {
            return Load::Unlinkable(why);
        }
        let skip = skip.or(kernel.then_some("mixes kwasm's host functions with other imports"));
        let rewritten = match skip {
            Some(_) => None,
            None => Some(link::rewrite(&wasm, &provided)),
        };
        drop(provided);
        let load = match rewritten {
            None => Load::Skip(skip.unwrap_or_default().into(), Binary::new(wasm)),
            Some(Err(e)) => Load::Error(format!("the runner's rewrite failed: {e}")),
            Some(Ok(wasm)) => self.upload(wasm),
        };
        // The instances whose state a module that is not running here
        // would have changed no longer follow the script.
        let running = match &load {
            Load::Ready(l) => Some(l.clone()),
            _ => None,
        };
        if running.is_none() {
            for l in &shared {
                self.taint(l, SHARED);
            }
        }
        if uses_memory {
            let was = std::mem::replace(&mut self.spectest_memory, Share::Used);
            self.spectest_memory = self.share(was, running.clone());
        }
        if uses_table {
            let was = std::mem::replace(&mut self.spectest_table, Share::Used);
            self.spectest_table = self.share(was, running);
        }
        load
    }

    /// spectest's memory or table after a module imported it: `running`
    /// is that module's instance, if it runs.
    fn share(&mut self, was: Share, running: Option<Rc<Loaded>>) -> Share {
        match (was, running) {
            (Share::Fresh, Some(l)) => Share::Claimed(l),
            // The second importer is not running: what it would have
            // written into the shared memory or table is missing.
            (Share::Claimed(l), _) => {
                self.taint(&l, SHARED);
                Share::Used
            }
            _ => Share::Used,
        }
    }

    /// Later commands on `l` are skipped for `reason`.
    fn taint(&mut self, l: &Rc<Loaded>, reason: &str) {
        let tainted = Module::Skipped(reason.into(), Some(l.bin.clone()));
        let same = |m: &Module| matches!(m, Module::Ready(i) if Rc::ptr_eq(i, l));
        for m in self
            .named
            .values_mut()
            .chain(self.registered.values_mut())
            .chain(self.current.as_mut())
        {
            if same(m) {
                *m = tainted.clone();
            }
        }
    }

    fn module(&mut self, mut module: QuoteWat<'_>) -> Verdict {
        let name = module.name().map(|id| id.name().to_string());
        let (state, verdict) = match Self::encode(&mut module) {
            Err(Verdict::Skip(reason)) => {
                (Module::Skipped(reason.clone(), None), Verdict::Skip(reason))
            }
            Err(v) => (Module::Broken(None), v),
            Ok(bytes) => match self.load(bytes) {
                Load::Ready(l) => (Module::Ready(l), Verdict::Pass),
                Load::Refused(e, bin) => match unsupported(&e.msg) {
                    Some(reason) => (
                        Module::Skipped(reason.clone(), Some(bin)),
                        Verdict::Skip(reason),
                    ),
                    None => (
                        Module::Broken(Some(bin)),
                        Verdict::Fail(format!("module refused: {e}")),
                    ),
                },
                Load::Skip(reason, bin) => (
                    Module::Skipped(reason.clone(), Some(bin)),
                    Verdict::Skip(reason),
                ),
                Load::Unlinkable(why) => (
                    Module::Broken(None),
                    Verdict::Fail(format!("module does not link: {why}")),
                ),
                Load::Error(why) => (Module::Broken(None), Verdict::Fail(why)),
            },
        };
        if let Some(name) = name {
            self.named.insert(name, state.clone());
        }
        self.current = Some(state);
        verdict
    }

    /// A module that must not instantiate: uploaded as the script gives
    /// it (kwasm validates before it looks at imports).
    fn must_refuse(&mut self, mut module: QuoteWat<'_>, what: &str) -> Verdict {
        let bytes = match Self::encode(&mut module) {
            Ok(bytes) => bytes,
            Err(v) => return v,
        };
        match self.engine.instantiate(&bytes) {
            Ok(_) => Verdict::Fail(format!("{what} module was accepted")),
            // Validated, refused only for what it imports.
            Err(e) if e.msg.starts_with("unknown import ") => {
                Verdict::Fail(format!("{what} module passed validation: {e}"))
            }
            // Refused for a feature kwasm leaves off (floats, say): that
            // says nothing about what the assertion tests.
            Err(e) => match unsupported(&e.msg) {
                Some(reason) => Verdict::Skip(reason),
                None => Verdict::Pass,
            },
        }
    }

    /// A module whose imports must not link: the runner's linking says so,
    /// and the engine refuses the module as the script gives it.
    fn unlinkable(&mut self, module: Wat<'_>) -> Verdict {
        let bytes = match Self::encode(&mut QuoteWat::Wat(module)) {
            Ok(bytes) => bytes,
            Err(v) => return v,
        };
        match self.load(bytes.clone()) {
            Load::Unlinkable(why) => match self.engine.instantiate(&bytes) {
                Ok(_) => Verdict::Fail(format!("kwasm linked a module with {why}")),
                Err(e) if e.msg.starts_with("unknown import ") => Verdict::Pass,
                Err(e) => match unsupported(&e.msg) {
                    Some(reason) => Verdict::Skip(reason),
                    None => Verdict::Fail(format!("{why}, but refused with: {e}")),
                },
            },
            Load::Ready(_) => Verdict::Fail("unlinkable module was linked".into()),
            Load::Refused(e, _) => match unsupported(&e.msg) {
                Some(reason) => Verdict::Skip(reason),
                None => Verdict::Fail(format!("refused, but not for its imports: {e}")),
            },
            Load::Skip(reason, _) => Verdict::Skip(reason),
            Load::Error(why) => Verdict::Fail(why),
        }
    }

    /// The instance an action names, or the verdict for the command.
    fn instance(&self, module: Option<&str>) -> Result<Rc<Loaded>, Verdict> {
        let state = match module {
            Some(name) => self.named.get(name),
            None => self.current.as_ref(),
        };
        match state {
            Some(Module::Ready(inst)) => Ok(inst.clone()),
            Some(Module::Skipped(reason, _)) => Err(Verdict::Skip(reason.clone())),
            Some(Module::Broken(_)) => Err(Verdict::Skip("module failed to instantiate".into())),
            None => Err(Verdict::Fail("no module to invoke".into())),
        }
    }

    fn call(&mut self, invoke: &WastInvoke<'_>) -> Result<(Rc<Loaded>, Outcome), Verdict> {
        let args = invoke
            .args
            .iter()
            .map(arg)
            .collect::<Result<Vec<_>, _>>()
            .map_err(Verdict::Skip)?;
        self.call_export(invoke.module.map(|id| id.name()), invoke.name, &args)
    }

    /// The spec's `get` of an exported global: a call of the getter the
    /// runner added to the module (src/link.rs), which reads the global in
    /// the engine's instance.
    fn get(&mut self, module: Option<&str>, global: &str) -> Result<Outcome, Verdict> {
        let inst = self.instance(module)?;
        match inst.bin.info.global_export(global) {
            Some(wasmparser::ValType::I32 | wasmparser::ValType::I64) => {}
            Some(ty) => return Err(Verdict::Skip(type_reason(&ty.to_string()))),
            None => return Err(Verdict::Fail(format!("no global export \"{global}\""))),
        }
        let getter = format!("{}{global}", link::GETTER);
        if !inst.bin.info.has_export(&getter) {
            return Err(Verdict::Skip("global get".into()));
        }
        Ok(self.call_export(module, &getter, &[])?.1)
    }

    fn call_export(
        &mut self,
        module: Option<&str>,
        name: &str,
        args: &[Value],
    ) -> Result<(Rc<Loaded>, Outcome), Verdict> {
        let inst = self.instance(module)?;
        // The invoke request carries the name as a C string in a fixed
        // array (the same skip in --host mode, which could pass it).
        if name.contains('\0') {
            return Err(Verdict::Skip(
                "limit: export names with NUL cannot be invoked (C string in the request)".into(),
            ));
        }
        if name.len() >= INVOKE_NAME_LEN {
            return Err(Verdict::Skip(format!(
                "limit: export names of {INVOKE_NAME_LEN} bytes or more cannot be invoked \
                 (KWASM_INVOKE_NAME_LEN)"
            )));
        }
        let result = inst.inst.borrow_mut().invoke(name, args);
        match result {
            Ok(outcome) => Ok((inst, outcome)),
            Err(e) => Err(match unsupported(&e.msg) {
                Some(reason) => Verdict::Skip(reason),
                None => Verdict::Fail(format!("invoke \"{}\" refused: {e}", name)),
            }),
        }
    }

    fn assert_return(&mut self, exec: WastExecute<'_>, results: &[WastRet<'_>]) -> Verdict {
        let expected = match results.iter().map(expected).collect::<Result<Vec<_>, _>>() {
            Ok(e) => e,
            Err(reason) => return Verdict::Skip(reason),
        };
        let invoke = match exec {
            WastExecute::Invoke(invoke) => invoke,
            WastExecute::Get { module, global, .. } => {
                return match self.get(module.map(|id| id.name()), global) {
                    Err(v) => v,
                    Ok(Outcome::Returned(got)) if matches(&got, &expected) => Verdict::Pass,
                    Ok(other) => Verdict::Fail(format!("get \"{global}\": {other:?}")),
                }
            }
            WastExecute::Wat(_) => return Verdict::Skip("module as action".into()),
        };
        match self.call(&invoke) {
            Err(v) => v,
            Ok((_, Outcome::Trapped { kind, msg })) => {
                Verdict::Fail(format!("\"{}\" trapped: {kind} ({msg})", invoke.name))
            }
            Ok((inst, Outcome::Returned(got))) => {
                if matches(&got, &expected) {
                    return Verdict::Pass;
                }
                if let Some(reason) = memory_limit(&inst.bin.info, &invoke, &got, &expected) {
                    self.taint(&inst, AFTER_LIMIT);
                    return Verdict::Skip(reason);
                }
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
                match self.load(bytes) {
                    Load::Ready(_) => {
                        Verdict::Fail(format!("module instantiated, expected \"{message}\""))
                    }
                    Load::Refused(e, _) => match unsupported(&e.msg) {
                        Some(reason) => Verdict::Skip(reason),
                        None if instantiation_trap(&e.msg) => Verdict::Pass,
                        None => Verdict::Fail(format!(
                            "refused, but not for \"{message}\" at instantiation: {e}"
                        )),
                    },
                    Load::Skip(reason, _) => Verdict::Skip(reason),
                    Load::Unlinkable(why) => Verdict::Fail(format!("module does not link: {why}")),
                    Load::Error(why) => Verdict::Fail(why),
                }
            }
            WastExecute::Get { .. } => Verdict::Skip("global get".into()),
        }
    }

    fn expect_trap(&mut self, invoke: &WastInvoke<'_>, message: &str, want: &str) -> Verdict {
        match self.call(invoke) {
            Err(v) => v,
            Ok((_, Outcome::Returned(got))) => Verdict::Fail(format!(
                "\"{}\" returned [{}], expected trap \"{message}\"",
                invoke.name,
                show(&got)
            )),
            Ok((_, Outcome::Trapped { kind, .. })) if kind == want => Verdict::Pass,
            Ok((_, Outcome::Trapped { kind, msg })) => Verdict::Fail(format!(
                "\"{}\" trapped with {kind} ({msg}), expected {want} (\"{message}\")",
                invoke.name
            )),
        }
    }
}

/// Whether a refusal is the failure of an instantiation: a segment out of
/// bounds (kwasm's own check of data segments, wasm3's of element
/// segments) or a trap in the start function, not a validation error.
fn instantiation_trap(msg: &str) -> bool {
    const SAYS: &[&str] = &[
        "does not fit in the initial linear memory",
        "out of bounds table access",
        "table underflow",
        "running the start function: ",
    ];
    SAYS.iter().any(|s| msg.contains(s))
}

/// A `memory.grow` that returned -1 where the spec expects the old size,
/// because the size asked for is above kwasm's per-instance limit: the
/// skip reason. The module must grow its memory, the expected old size
/// plus an i32 argument (the pages asked for) must exceed the limit.
fn memory_limit(
    info: &Info,
    invoke: &WastInvoke<'_>,
    got: &[Value],
    expected: &[Vec<Value>],
) -> Option<String> {
    let [Value::I32(-1)] = got else {
        return None;
    };
    let [alts] = expected else {
        return None;
    };
    let [Value::I32(old)] = alts.as_slice() else {
        return None;
    };
    let old = u64::try_from(*old).ok()?;
    let above = invoke.args.iter().any(|a| {
        matches!(a, WastArg::Core(WastArgCore::I32(n))
            if old + u64::from(*n as u32) > link::KWASM_MAX_PAGES)
    });
    (info.grows_memory && above).then(|| {
        format!(
            "limit: linear memory at most {} pages per instance",
            link::KWASM_MAX_PAGES
        )
    })
}

/// Whether results match the expected ones (each of which may have
/// alternatives).
fn matches(got: &[Value], expected: &[Vec<Value>]) -> bool {
    got.len() == expected.len() && got.iter().zip(expected).all(|(g, e)| e.contains(g))
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
