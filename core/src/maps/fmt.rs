//! Display formats of map keys and values (docs/ABI.md, "Maps
//! (declarations)"): how `kwasmctl` and `/proc/kwasm` show the bytes. The
//! core only checks them: the grammar, and that the fields' sizes add up to
//! the size they describe, so a wrong format fails the load rather than
//! showing garbage later.
//!
//! ```text
//! format := "" | field ("," field)*        "" shows the bytes in hex
//! field  := [name ":"] type
//! name   := [A-Za-z_][A-Za-z0-9_]*         at most 31 characters, unique
//! type   := u8 | u16 | u32 | u64 | i8 | i16 | i32 | i64
//!         | ipv4 | ipv4be | port | hexN | padN
//! N      := 1..4096, decimal, no leading zero
//! ```
//!
//! `ipv4` is a u32 in host order (as `kwasm_record.saddr`), `ipv4be` the
//! four bytes in network order, `port` a u16 in host order; `hexN` shows N
//! bytes in hex, `padN` skips N bytes. No blanks anywhere.

use alloc::format;
use alloc::string::String;

use crate::abi;

/// Longest field name.
pub const NAME_MAX: usize = 31;
/// Largest N of `hexN` and `padN`: a whole value.
pub const SIZE_MAX: u32 = abi::KWASM_LIMIT_MAP_VALUE;

/// Most characters of a format a reason quotes, escapes included: a reason
/// fits in `KWASM_ERR_LEN` bytes whatever the format.
pub const QUOTE_MAX: usize = 24;

/// `text` quoted and escaped for a reason, cut (and followed by "...")
/// where it would take more than [`QUOTE_MAX`] characters.
pub fn quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        let escaped = c.escape_debug();
        if out.len() + escaped.len() > QUOTE_MAX + 1 {
            out.push_str("\"...");
            return out;
        }
        out.extend(escaped);
    }
    out.push('"');
    out
}

/// The type of one field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    /// `u8` .. `u64`: the size in bytes.
    Unsigned(u32),
    /// `i8` .. `i64`: the size in bytes.
    Signed(u32),
    Ipv4,
    Ipv4Be,
    Port,
    Hex(u32),
    Pad(u32),
}

impl Type {
    /// Bytes the field takes.
    pub fn size(self) -> u32 {
        match self {
            Self::Unsigned(n) | Self::Signed(n) | Self::Hex(n) | Self::Pad(n) => n,
            Self::Ipv4 | Self::Ipv4Be => 4,
            Self::Port => 2,
        }
    }

    fn parse(text: &str) -> Result<Self, String> {
        let fixed = match text {
            "u8" => Some(Self::Unsigned(1)),
            "u16" => Some(Self::Unsigned(2)),
            "u32" => Some(Self::Unsigned(4)),
            "u64" => Some(Self::Unsigned(8)),
            "i8" => Some(Self::Signed(1)),
            "i16" => Some(Self::Signed(2)),
            "i32" => Some(Self::Signed(4)),
            "i64" => Some(Self::Signed(8)),
            "ipv4" => Some(Self::Ipv4),
            "ipv4be" => Some(Self::Ipv4Be),
            "port" => Some(Self::Port),
            _ => None,
        };
        if let Some(ty) = fixed {
            return Ok(ty);
        }
        let sized = |n: &str, ty: fn(u32) -> Self| match size_of_text(n) {
            Some(n) => Ok(ty(n)),
            None => Err(format!(
                "type {} needs a size from 1 to {SIZE_MAX} without leading zeros",
                quote(text)
            )),
        };
        if let Some(n) = text.strip_prefix("hex") {
            sized(n, Self::Hex)
        } else if let Some(n) = text.strip_prefix("pad") {
            sized(n, Self::Pad)
        } else if text.is_empty() {
            Err("a field has no type".into())
        } else {
            Err(format!(
                "unknown type {} (u8..u64, i8..i64, ipv4, ipv4be, port, hexN, padN)",
                quote(text)
            ))
        }
    }
}

/// N of `hexN`/`padN`: 1..=SIZE_MAX, decimal digits, no leading zero.
fn size_of_text(n: &str) -> Option<u32> {
    if n.is_empty() || n.len() > 4 || n.starts_with('0') || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value = n
        .bytes()
        .fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0'));
    (value <= SIZE_MAX).then_some(value)
}

/// One field of a format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field<'a> {
    pub name: Option<&'a str>,
    pub ty: Type,
}

fn is_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_');
    first_ok && name.len() <= NAME_MAX && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn parse_field(text: &str) -> Result<Field<'_>, String> {
    let (name, ty) = match text.split_once(':') {
        Some((name, ty)) => {
            if !is_name(name) {
                return Err(format!(
                    "field name {} is not [A-Za-z_][A-Za-z0-9_]* of at most {NAME_MAX} \
                     characters",
                    quote(name)
                ));
            }
            (Some(name), ty)
        }
        None => (None, text),
    };
    Ok(Field {
        name,
        ty: Type::parse(ty)?,
    })
}

/// The fields of `text` in order; each is parsed when reached. "" has none
/// (the bytes are shown in hex).
pub fn fields(text: &str) -> impl Iterator<Item = Result<Field<'_>, String>> {
    let mut parts = (!text.is_empty()).then(|| text.split(','));
    core::iter::from_fn(move || parts.as_mut()?.next().map(parse_field))
}

/// Checks that `text` is a format whose fields take exactly `size` bytes
/// (any size for ""). The error says why, without naming the format.
pub fn check(text: &str, size: u32) -> Result<(), String> {
    let mut total: u64 = 0;
    for (i, field) in fields(text).enumerate() {
        let field = field.map_err(|e| format!("field {}: {e}", i + 1))?;
        if let Some(name) = field.name {
            let twice = fields(text)
                .take(i)
                .any(|f| f.is_ok_and(|f| f.name == Some(name)));
            if twice {
                return Err(format!("field {}: name {name} is used twice", i + 1));
            }
        }
        total += u64::from(field.ty.size());
    }
    if !text.is_empty() && total != u64::from(size) {
        return Err(format!("fields take {total} bytes, not {size}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammar() {
        assert_eq!(check("", 17), Ok(()));
        assert_eq!(check("ipv4", 4), Ok(()));
        assert_eq!(
            check("saddr:ipv4,sport:port,dport:port,proto:u8,pad3", 12),
            Ok(())
        );
        assert_eq!(check("packets:u64,bytes:u64", 16), Ok(()));
        assert_eq!(check("hex4096", 4096), Ok(()));
        assert_eq!(check("a:i8,b:i16,c:i32,d:i64,ipv4be,u16,u32", 25), Ok(()));
        assert_eq!(check("u32", 8), Err("fields take 4 bytes, not 8".into()));
        assert_eq!(
            check("a:u8,a:u8", 2),
            Err("field 2: name a is used twice".into())
        );
        assert!(check("u8,", 1)
            .unwrap_err()
            .starts_with("field 2: a field has no type"));
        assert!(check("u8, u8", 2)
            .unwrap_err()
            .contains("unknown type \" u8\""));
        assert!(check("hex0", 0)
            .unwrap_err()
            .contains("type \"hex0\" needs a size"));
        let long = "x".repeat(300);
        assert_eq!(
            check(&long, 1),
            Err(format!("field 1: unknown type \"{}\"... (u8..u64, i8..i64, ipv4, ipv4be, port, hexN, padN)", &long[..24]))
        );
        assert_eq!(quote("a\nb"), "\"a\\nb\"");
        let control = "\u{13}".repeat(40);
        assert_eq!(quote(&control), format!("\"{}\"...", "\\u{13}".repeat(4)));
        assert!(check("hex01", 1).unwrap_err().contains("needs a size"));
        assert!(check("pad4097", 4097).unwrap_err().contains("needs a size"));
        assert!(check("hex", 0).unwrap_err().contains("needs a size"));
        assert!(check("1a:u8", 1).unwrap_err().contains("field name \"1a\""));
        assert!(check(":u8", 1).unwrap_err().contains("field name \"\""));
        assert!(check("a:b:u8", 1)
            .unwrap_err()
            .contains("unknown type \"b:u8\""));
        let long = format!("{}:u8", "n".repeat(32));
        assert!(check(&long, 1).unwrap_err().contains("at most 31"));
        let ok = format!("{}:u8", "n".repeat(31));
        assert_eq!(check(&ok, 1), Ok(()));
        let f: alloc::vec::Vec<_> = fields("x:hex3,pad2").collect();
        assert_eq!(
            f,
            [
                Ok(Field {
                    name: Some("x"),
                    ty: Type::Hex(3)
                }),
                Ok(Field {
                    name: None,
                    ty: Type::Pad(2)
                })
            ]
        );
    }
}
