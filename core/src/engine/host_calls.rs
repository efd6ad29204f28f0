//! The calls of imported functions whose arguments are known at load: a
//! function body is validated operator by operator while a model of its
//! operand stack records which values are constants (`i32.const`,
//! `i64.const`) pushed in straight-line code. At each `call` of an import
//! the arguments' constants, where known, are kept for the embedder, which
//! knows what the host function expects (e.g. a declared map's id and key
//! size) and can refuse at load what would trap on every run.
//!
//! Only constants pushed directly are known: a value that went through a
//! local, a block result or any arithmetic is unknown, so nothing is ever
//! guessed. The operators' stack effects come from the validator itself
//! (`operator_arity`), the same that checks them.

use alloc::vec::Vec;

use wasmparser::{BinaryReaderError, FuncValidator, FunctionBody, Operator, ValidatorResources};

/// A call of imported function `import` (its index among the function
/// imports) at byte `offset` of the module, in function `func`, and its
/// arguments: `Some` for those known at load.
#[derive(Clone, Debug)]
pub struct HostCall {
    pub import: u32,
    pub func: u32,
    pub offset: u64,
    pub args: Vec<Option<i64>>,
}

/// Validates `body` (as `FuncValidator::validate` does) and appends to
/// `calls` each call of one of the first `imported` functions that has at
/// least one argument known.
pub fn validate(
    v: &mut FuncValidator<ValidatorResources>,
    body: &FunctionBody<'_>,
    func: u32,
    imported: u32,
    calls: &mut Vec<HostCall>,
) -> Result<(), BinaryReaderError> {
    let mut reader = body.get_binary_reader();
    v.read_locals(&mut reader)?;
    reader.set_features(super::validate::features());
    // One entry per operand on the validator's stack: its constant if known.
    let mut stack: Vec<Option<i64>> = Vec::new();
    while !reader.eof() {
        let offset = reader.original_position();
        let op = reader.peek_operator(&v.visitor(offset))?;
        let height = v.operand_stack_height() as usize;
        let arity = op.operator_arity(&v.visitor(offset));
        reader.visit_operator(&mut v.visitor(offset))??;
        // Where the model and the validator disagree (unreachable code,
        // frames), forget what is not certain.
        stack.resize(height, None);
        let Some((pops, pushes)) = arity else {
            stack.clear();
            stack.resize(v.operand_stack_height() as usize, None);
            continue;
        };
        let base = height.saturating_sub(pops as usize);
        if let Operator::Call { function_index } = op {
            if function_index < imported {
                let args = stack.get(base..).unwrap_or(&[]).to_vec();
                if args.iter().any(Option::is_some) {
                    calls.push(HostCall {
                        import: function_index,
                        func,
                        offset,
                        args,
                    });
                }
            }
        }
        stack.truncate(base);
        let value = match op {
            Operator::I32Const { value } => Some(i64::from(value)),
            Operator::I64Const { value } => Some(value),
            _ => None,
        };
        for _ in 0..pushes {
            stack.push(value);
        }
        let after = v.operand_stack_height() as usize;
        if stack.len() != after {
            stack.clear();
            stack.resize(after, None);
        }
    }
    reader.finish_expression(&v.visitor(reader.original_position()))
}
