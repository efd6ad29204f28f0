// SPDX-License-Identifier: GPL-2.0
//! Map keys and values in their declared display formats (docs/ABI.md,
//! "Maps (declarations)"): parsed from the command line, shown as text
//! and as JSON.
//!
//! A format is "" (the bytes in hex) or comma-separated `[name:]type`
//! fields with types `u8..u64 i8..i64 ipv4 ipv4be port hexN padN`. Values
//! are little-endian as a WebAssembly program stores them: `ipv4` is a u32
//! (127.0.0.1 is 0x7f000001), `ipv4be` the four bytes in network order,
//! `port` a u16. On the command line the fields are given in order,
//! comma-separated, each as `value` or `name=value`, `pad` fields left
//! out; `hex:...` gives the whole bytes in hex whatever the format. Text
//! shows the same way (named fields as `name=value`), so what is shown can
//! be typed back.

use std::net::Ipv4Addr;

use anyhow::{bail, ensure, Context, Result};
use serde_json::{json, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    Unsigned(usize),
    Signed(usize),
    Ipv4,
    Ipv4Be,
    Port,
    Hex(usize),
    Pad(usize),
}

impl Ty {
    fn size(self) -> usize {
        match self {
            Ty::Unsigned(n) | Ty::Signed(n) | Ty::Hex(n) | Ty::Pad(n) => n,
            Ty::Ipv4 | Ty::Ipv4Be => 4,
            Ty::Port => 2,
        }
    }

    fn numeric(self) -> bool {
        matches!(self, Ty::Unsigned(_) | Ty::Signed(_))
    }

    fn parse(text: &str) -> Result<Self> {
        Ok(match text {
            "u8" => Ty::Unsigned(1),
            "u16" => Ty::Unsigned(2),
            "u32" => Ty::Unsigned(4),
            "u64" => Ty::Unsigned(8),
            "i8" => Ty::Signed(1),
            "i16" => Ty::Signed(2),
            "i32" => Ty::Signed(4),
            "i64" => Ty::Signed(8),
            "ipv4" => Ty::Ipv4,
            "ipv4be" => Ty::Ipv4Be,
            "port" => Ty::Port,
            _ => {
                let sized = |n: &str| -> Result<usize> {
                    let n: usize = n.parse().with_context(|| format!("bad type '{text}'"))?;
                    ensure!((1..=4096).contains(&n), "bad size in type '{text}'");
                    Ok(n)
                };
                if let Some(n) = text.strip_prefix("hex") {
                    Ty::Hex(sized(n)?)
                } else if let Some(n) = text.strip_prefix("pad") {
                    Ty::Pad(sized(n)?)
                } else {
                    bail!("unknown type '{text}'")
                }
            }
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: Option<String>,
    pub ty: Ty,
}

/// A parsed format for `size` bytes; no fields: hex.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Format {
    pub fields: Vec<Field>,
    pub size: usize,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_hex(text: &str, size: usize) -> Result<Vec<u8>> {
    let text = text.strip_prefix("0x").unwrap_or(text);
    ensure!(
        text.len() == size * 2,
        "'{text}' is not {size} bytes in hex ({} digits)",
        size * 2
    );
    (0..size)
        .map(|i| {
            u8::from_str_radix(&text[2 * i..2 * i + 2], 16)
                .with_context(|| format!("'{text}' is not hex"))
        })
        .collect()
}

/// `text` as a number: decimal, or hex after 0x.
fn parse_u64(text: &str) -> Result<u64> {
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    }
    .with_context(|| format!("'{text}' is not a number"))
}

/// The little-endian unsigned number in `bytes` (at most 8).
fn le(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .rev()
        .fold(0, |acc, &b| (acc << 8) | u64::from(b))
}

/// The same, sign-extended.
fn le_signed(bytes: &[u8]) -> i64 {
    let bits = 64 - 8 * bytes.len() as u32;
    ((le(bytes) << bits) as i64) >> bits
}

impl Format {
    /// `text` for values of `size` bytes; an error when the fields do not
    /// add up (the kernel checked the declaration already).
    pub fn parse(text: &str, size: u32) -> Result<Self> {
        let size = size as usize;
        let mut fields = Vec::new();
        if !text.is_empty() {
            for part in text.split(',') {
                let (name, ty) = match part.split_once(':') {
                    Some((name, ty)) => (Some(name.to_owned()), ty),
                    None => (None, part),
                };
                fields.push(Field {
                    name,
                    ty: Ty::parse(ty)?,
                });
            }
            let total: usize = fields.iter().map(|f| f.ty.size()).sum();
            ensure!(
                total == size,
                "format '{text}' takes {total} bytes, not {size}"
            );
        }
        Ok(Self { fields, size })
    }

    /// The bytes `text` gives: `hex:...`, or the fields in order.
    pub fn input(&self, text: &str) -> Result<Vec<u8>> {
        if let Some(h) = text.strip_prefix("hex:") {
            return parse_hex(h, self.size);
        }
        if self.fields.is_empty() {
            return parse_hex(text, self.size);
        }
        let given: Vec<&str> = text.split(',').collect();
        let wanted = self
            .fields
            .iter()
            .filter(|f| f.ty.size() > 0 && !matches!(f.ty, Ty::Pad(_)));
        let n = wanted.clone().count();
        ensure!(
            given.len() == n,
            "'{text}' has {} fields; the format '{}' wants {n} (or hex:...)",
            given.len(),
            self.text()
        );
        let mut out = Vec::with_capacity(self.size);
        let mut given = given.into_iter();
        for field in &self.fields {
            if let Ty::Pad(n) = field.ty {
                out.resize(out.len() + n, 0);
                continue;
            }
            let mut part = given.next().unwrap_or_default();
            if let Some((name, value)) = part.split_once('=') {
                ensure!(
                    field.name.as_deref() == Some(name),
                    "'{part}': the field there is {}",
                    field.name.as_deref().unwrap_or("unnamed")
                );
                part = value;
            }
            self.field_input(field.ty, part, &mut out)
                .with_context(|| format!("field {}", field.name.as_deref().unwrap_or(part)))?;
        }
        Ok(out)
    }

    fn field_input(&self, ty: Ty, text: &str, out: &mut Vec<u8>) -> Result<()> {
        match ty {
            Ty::Unsigned(n) => {
                let v = parse_u64(text)?;
                ensure!(n == 8 || v >> (8 * n) == 0, "{v} does not fit in {n} bytes");
                out.extend_from_slice(&v.to_le_bytes()[..n]);
            }
            Ty::Signed(n) => {
                let v: i64 = text
                    .parse()
                    .with_context(|| format!("'{text}' is not a number"))?;
                let bits = 8 * n as u32;
                ensure!(
                    n == 8 || (v >= -(1i64 << (bits - 1)) && v < (1i64 << (bits - 1))),
                    "{v} does not fit in {n} bytes"
                );
                out.extend_from_slice(&v.to_le_bytes()[..n]);
            }
            Ty::Ipv4 | Ty::Ipv4Be => {
                let a: Ipv4Addr = text
                    .parse()
                    .with_context(|| format!("'{text}' is not an IPv4 address"))?;
                if ty == Ty::Ipv4 {
                    out.extend_from_slice(&u32::from(a).to_le_bytes());
                } else {
                    out.extend_from_slice(&a.octets());
                }
            }
            Ty::Port => {
                let p: u16 = text
                    .parse()
                    .with_context(|| format!("'{text}' is not a port"))?;
                out.extend_from_slice(&p.to_le_bytes());
            }
            Ty::Hex(n) => out.extend_from_slice(&parse_hex(text, n)?),
            Ty::Pad(n) => out.resize(out.len() + n, 0),
        }
        Ok(())
    }

    /// The format's text back.
    pub fn text(&self) -> String {
        self.fields
            .iter()
            .map(|f| {
                let ty = match f.ty {
                    Ty::Unsigned(n) => format!("u{}", 8 * n),
                    Ty::Signed(n) => format!("i{}", 8 * n),
                    Ty::Ipv4 => "ipv4".into(),
                    Ty::Ipv4Be => "ipv4be".into(),
                    Ty::Port => "port".into(),
                    Ty::Hex(n) => format!("hex{n}"),
                    Ty::Pad(n) => format!("pad{n}"),
                };
                match &f.name {
                    Some(name) => format!("{name}:{ty}"),
                    None => ty,
                }
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Each shown field with its bytes.
    fn parts<'a>(&'a self, bytes: &'a [u8]) -> impl Iterator<Item = (&'a Field, &'a [u8])> {
        let mut at = 0;
        self.fields.iter().filter_map(move |f| {
            let n = f.ty.size();
            let part = bytes.get(at..at + n).unwrap_or_default();
            at += n;
            (!matches!(f.ty, Ty::Pad(_))).then_some((f, part))
        })
    }

    fn field_text(ty: Ty, b: &[u8]) -> String {
        match ty {
            Ty::Unsigned(_) => le(b).to_string(),
            Ty::Signed(_) => le_signed(b).to_string(),
            Ty::Ipv4 => Ipv4Addr::from(le(b) as u32).to_string(),
            Ty::Ipv4Be => match <[u8; 4]>::try_from(b) {
                Ok(o) => Ipv4Addr::from(o).to_string(),
                Err(_) => hex(b),
            },
            Ty::Port => le(b).to_string(),
            Ty::Hex(_) | Ty::Pad(_) => hex(b),
        }
    }

    fn field_json(ty: Ty, b: &[u8]) -> Value {
        match ty {
            Ty::Unsigned(_) | Ty::Port => json!(le(b)),
            Ty::Signed(_) => json!(le_signed(b)),
            _ => json!(Self::field_text(ty, b)),
        }
    }

    /// `bytes` as text, in the command line's syntax.
    pub fn show(&self, bytes: &[u8]) -> String {
        if self.fields.is_empty() {
            return hex(bytes);
        }
        self.parts(bytes)
            .map(|(f, b)| match &f.name {
                Some(name) => format!("{name}={}", Self::field_text(f.ty, b)),
                None => Self::field_text(f.ty, b),
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    /// `bytes` as JSON: a hex string for "", an object of named fields, the
    /// value of a single unnamed field, else an array.
    pub fn json(&self, bytes: &[u8]) -> Value {
        if self.fields.is_empty() {
            return json!(hex(bytes));
        }
        let parts: Vec<_> = self.parts(bytes).collect();
        if parts.iter().all(|(f, _)| f.name.is_some()) {
            let map = parts
                .iter()
                .map(|(f, b)| {
                    (
                        f.name.clone().unwrap_or_default(),
                        Self::field_json(f.ty, b),
                    )
                })
                .collect();
            return Value::Object(map);
        }
        if let [(f, b)] = parts.as_slice() {
            return Self::field_json(f.ty, b);
        }
        Value::Array(
            parts
                .iter()
                .map(|(f, b)| Self::field_json(f.ty, b))
                .collect(),
        )
    }

    /// The sum of per-CPU `values`, field by field, when every shown field
    /// is a number (wrapping at the field's size); `None` otherwise.
    pub fn sum(&self, values: &[&[u8]]) -> Option<Vec<u8>> {
        let shown: Vec<_> = self
            .fields
            .iter()
            .filter(|f| !matches!(f.ty, Ty::Pad(_)))
            .collect();
        if shown.is_empty() || !shown.iter().all(|f| f.ty.numeric()) {
            return None;
        }
        let mut out = vec![0u8; self.size];
        let mut at = 0;
        for f in &self.fields {
            let n = f.ty.size();
            if f.ty.numeric() {
                let total = values.iter().fold(0u64, |acc, v| {
                    acc.wrapping_add(v.get(at..at + n).map_or(0, |b| {
                        if matches!(f.ty, Ty::Signed(_)) {
                            le_signed(b) as u64
                        } else {
                            le(b)
                        }
                    }))
                });
                out[at..at + n].copy_from_slice(&total.to_le_bytes()[..n]);
            }
            at += n;
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_keys_round_trip() {
        let f = Format::parse("ipv4", 4).unwrap();
        let b = f.input("127.0.0.2").unwrap();
        assert_eq!(b, [2, 0, 0, 127]);
        assert_eq!(f.show(&b), "127.0.0.2");
        assert_eq!(f.json(&b), json!("127.0.0.2"));
        let be = Format::parse("ipv4be", 4).unwrap();
        assert_eq!(be.input("10.0.0.1").unwrap(), [10, 0, 0, 1]);
        assert_eq!(be.show(&[10, 0, 0, 1]), "10.0.0.1");
        assert!(f.input("127.0.0").is_err());
        assert_eq!(f.input("hex:0200007f").unwrap(), [2, 0, 0, 127]);
    }

    #[test]
    fn numbers() {
        let f = Format::parse("u8", 1).unwrap();
        assert_eq!(f.input("1").unwrap(), [1]);
        assert_eq!(f.input("0xff").unwrap(), [255]);
        assert!(f.input("256").unwrap_err().to_string().contains("field"));
        let s = Format::parse("i16", 2).unwrap();
        assert_eq!(s.input("-2").unwrap(), [0xfe, 0xff]);
        assert_eq!(s.show(&[0xfe, 0xff]), "-2");
        assert!(s.input("40000").is_err());
        let u = Format::parse("u64", 8).unwrap();
        assert_eq!(
            u.show(&u.input("18446744073709551615").unwrap()),
            "18446744073709551615"
        );
    }

    #[test]
    fn named_fields_and_padding() {
        let f = Format::parse("packets:u64,bytes:u64", 16).unwrap();
        let b = f.input("3,180").unwrap();
        assert_eq!(f.show(&b), "packets=3,bytes=180");
        assert_eq!(f.input("packets=3,bytes=180").unwrap(), b);
        assert_eq!(f.json(&b), json!({"packets": 3, "bytes": 180}));
        assert!(f.input("bytes=3,180").is_err());
        assert!(f.input("3").unwrap_err().to_string().contains("wants 2"));
        let e = Format::parse("saddr:ipv4,sport:port,dport:port,proto:u8,pad3", 12).unwrap();
        let b = e.input("10.0.0.1,1234,80,6").unwrap();
        assert_eq!(b.len(), 12);
        assert_eq!(e.show(&b), "saddr=10.0.0.1,sport=1234,dport=80,proto=6");
        let mixed = Format::parse("u8,hex2", 3).unwrap();
        assert_eq!(mixed.json(&[1, 0xab, 0xcd]), json!([1, "abcd"]));
        assert_eq!(mixed.text(), "u8,hex2");
    }

    #[test]
    fn hex_format() {
        let f = Format::parse("", 3).unwrap();
        assert_eq!(f.input("0a0b0c").unwrap(), [10, 11, 12]);
        assert_eq!(f.input("hex:0a0b0c").unwrap(), [10, 11, 12]);
        assert_eq!(f.show(&[10, 11, 12]), "0a0b0c");
        assert!(f.input("0a0b").is_err());
        assert!(f.input("zz0b0c").is_err());
        assert!(Format::parse("u32", 8).is_err());
        assert!(Format::parse("float", 4).is_err());
    }

    #[test]
    fn per_cpu_sums() {
        let f = Format::parse("packets:u64,bytes:u64", 16).unwrap();
        let a = f.input("1,100").unwrap();
        let b = f.input("2,50").unwrap();
        let sum = f.sum(&[&a, &b]).unwrap();
        assert_eq!(f.show(&sum), "packets=3,bytes=150");
        let s = Format::parse("i8", 1).unwrap();
        assert_eq!(s.show(&s.sum(&[&[0xff], &[0xfe]]).unwrap()), "-3");
        assert!(Format::parse("ipv4", 4).unwrap().sum(&[&[0; 4]]).is_none());
        assert!(Format::parse("", 4).unwrap().sum(&[&[0; 4]]).is_none());
    }
}
