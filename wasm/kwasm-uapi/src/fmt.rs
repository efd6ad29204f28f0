// SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note OR MIT
//! Display formats of map keys, values and event records (docs/ABI.md,
//! "Maps (declarations)"), decoded for user space: the grammar the kernel
//! checks at load (core/src/maps/fmt.rs), here turned into named values.
//!
//! ```text
//! format := "" | field ("," field)*        "" shows the bytes in hex
//! field  := [name ":"] type
//! type   := u8 | u16 | u32 | u64 | i8 | i16 | i32 | i64
//!         | ipv4 | ipv4be | port | hexN | padN
//! ```
//!
//! Numbers are little-endian (the wasm program's order); `ipv4` is a u32
//! in host order (as `kwasm_record.saddr`), `ipv4be` four bytes in network
//! order, `port` a u16; `hexN` shows N bytes in hex, `padN` skips N bytes.
//! A field without a name is called `f<i>` (i counting fields from 1).

use std::fmt;
use std::net::Ipv4Addr;

/// The type of one field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    /// `u8` .. `u64`: the size in bytes.
    Unsigned(usize),
    /// `i8` .. `i64`: the size in bytes.
    Signed(usize),
    Ipv4,
    Ipv4Be,
    Port,
    Hex(usize),
    Pad(usize),
}

impl Type {
    /// Bytes the field takes.
    pub fn size(self) -> usize {
        match self {
            Self::Unsigned(n) | Self::Signed(n) | Self::Hex(n) | Self::Pad(n) => n,
            Self::Ipv4 | Self::Ipv4Be => 4,
            Self::Port => 2,
        }
    }

    fn parse(text: &str) -> Result<Self, String> {
        Ok(match text {
            "u8" => Self::Unsigned(1),
            "u16" => Self::Unsigned(2),
            "u32" => Self::Unsigned(4),
            "u64" => Self::Unsigned(8),
            "i8" => Self::Signed(1),
            "i16" => Self::Signed(2),
            "i32" => Self::Signed(4),
            "i64" => Self::Signed(8),
            "ipv4" => Self::Ipv4,
            "ipv4be" => Self::Ipv4Be,
            "port" => Self::Port,
            _ => {
                let sized = |n: &str| {
                    let digits = !n.starts_with('0') && n.bytes().all(|b| b.is_ascii_digit());
                    match n.parse::<usize>() {
                        Ok(v) if digits && (1..=4096).contains(&v) => Ok(v),
                        _ => Err(format!("type {text:?} needs a size from 1 to 4096")),
                    }
                };
                if let Some(n) = text.strip_prefix("hex") {
                    Self::Hex(sized(n)?)
                } else if let Some(n) = text.strip_prefix("pad") {
                    Self::Pad(sized(n)?)
                } else {
                    return Err(format!(
                        "unknown type {text:?} (u8..u64, i8..i64, ipv4, ipv4be, port, hexN, padN)"
                    ));
                }
            }
        })
    }
}

/// One field of a format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub ty: Type,
}

/// A parsed format: its fields in order; none for "" (hex).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Format {
    pub fields: Vec<Field>,
}

/// A decoded value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Unsigned(u64),
    Signed(i64),
    Ipv4(Ipv4Addr),
    /// Bytes shown in hex.
    Hex(Vec<u8>),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unsigned(v) => write!(f, "{v}"),
            Self::Signed(v) => write!(f, "{v}"),
            Self::Ipv4(a) => write!(f, "{a}"),
            Self::Hex(b) => f.write_str(&hex(b)),
        }
    }
}

/// `bytes` in lower-case hex, no separators.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn le(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .rev()
        .fold(0u64, |acc, &b| acc << 8 | u64::from(b))
}

impl Format {
    /// Parses `text` (see the module documentation).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut fields: Vec<Field> = Vec::new();
        if text.is_empty() {
            return Ok(Self { fields });
        }
        for (i, part) in text.split(',').enumerate() {
            let (name, ty) = match part.split_once(':') {
                Some((name, ty)) => (name.to_owned(), ty),
                None => (format!("f{}", i + 1), part),
            };
            let ty = Type::parse(ty).map_err(|e| format!("field {}: {e}", i + 1))?;
            if fields.iter().any(|f| f.name == name) {
                return Err(format!("field {}: name {name} is used twice", i + 1));
            }
            fields.push(Field { name, ty });
        }
        Ok(Self { fields })
    }

    /// Bytes the fields take (0 for hex).
    pub fn size(&self) -> usize {
        self.fields.iter().map(|f| f.ty.size()).sum()
    }

    /// The named values of `bytes`, pads left out. Hex (one field "hex")
    /// when the format is "" or its size is not the bytes'.
    pub fn decode(&self, bytes: &[u8]) -> Vec<(String, Value)> {
        if self.fields.is_empty() || self.size() != bytes.len() {
            return vec![("hex".into(), Value::Hex(bytes.to_vec()))];
        }
        let mut out = Vec::new();
        let mut at = 0;
        for field in &self.fields {
            let b = &bytes[at..at + field.ty.size()];
            at += field.ty.size();
            let value = match field.ty {
                Type::Pad(_) => continue,
                Type::Unsigned(_) | Type::Port => Value::Unsigned(le(b)),
                Type::Signed(n) => {
                    let shift = 64 - 8 * n as u32;
                    Value::Signed(((le(b) << shift) as i64) >> shift)
                }
                Type::Ipv4 => Value::Ipv4(Ipv4Addr::from(le(b) as u32)),
                Type::Ipv4Be => Value::Ipv4(Ipv4Addr::new(b[0], b[1], b[2], b[3])),
                Type::Hex(_) => Value::Hex(b.to_vec()),
            };
            out.push((field.name.clone(), value));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_event() {
        let f = Format::parse("saddr:ipv4,sport:port,dport:port,proto:u8,pad3").unwrap();
        assert_eq!(f.size(), 12);
        let mut b = 0x7f00_0001u32.to_le_bytes().to_vec();
        b.extend_from_slice(&40000u16.to_le_bytes());
        b.extend_from_slice(&23557u16.to_le_bytes());
        b.extend_from_slice(&[6, 0, 0, 0]);
        let shown: Vec<String> = f
            .decode(&b)
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect();
        assert_eq!(
            shown,
            ["saddr=127.0.0.1", "sport=40000", "dport=23557", "proto=6"]
        );
    }

    #[test]
    fn every_type() {
        let f = Format::parse("i8,b:i16,u32,ipv4be,hex2,i64").unwrap();
        let mut b = vec![0xff, 0xfe, 0xff, 1, 0, 0, 0, 10, 0, 0, 1, 0xab, 0xcd];
        b.extend_from_slice(&(-5i64).to_le_bytes());
        let d = f.decode(&b);
        assert_eq!(d[0], ("f1".into(), Value::Signed(-1)));
        assert_eq!(d[1], ("b".into(), Value::Signed(-2)));
        assert_eq!(d[2], ("f3".into(), Value::Unsigned(1)));
        assert_eq!(d[3].1.to_string(), "10.0.0.1");
        assert_eq!(d[4].1.to_string(), "abcd");
        assert_eq!(d[5].1, Value::Signed(-5));
        // "" and a size mismatch: hex.
        assert_eq!(
            Format::parse("").unwrap().decode(&[1, 2]),
            [("hex".into(), Value::Hex(vec![1, 2]))]
        );
        assert_eq!(Format::parse("u32").unwrap().decode(&[1, 2]).len(), 1);
        assert!(Format::parse("u7").is_err());
        assert!(Format::parse("hex0").is_err());
        assert!(Format::parse("hex01").is_err());
        assert!(Format::parse("pad+1").is_err());
        assert!(Format::parse("a:u8,a:u8").is_err());
    }
}
