// SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note OR MIT
//! Names of the ABI's numbers, as kwasmctl takes and prints them and
//! `/proc/kwasm` prints them: families, hooks, netfilter priorities, ABIs,
//! verdicts and trap kinds. The numbers are the header's and netfilter's
//! (`linux/netfilter.h`, `linux/netfilter_ipv4.h`, through bindgen).

use std::fmt;
use std::str::FromStr;

use crate::*;

/// Families a program attaches to (`kwasm_load.family`), by name.
pub const FAMILIES: [(&str, u32); 3] = [
    ("ipv4", KWASM_FAMILY_IPV4),
    ("ipv6", KWASM_FAMILY_IPV6),
    ("inet", KWASM_FAMILY_INET),
];

/// Netfilter's hooks (`NF_INET_*`), named as `/proc/kwasm` names them.
pub const HOOKS: [(&str, u32); 5] = [
    ("pre-routing", NF_INET_PRE_ROUTING),
    ("local-in", NF_INET_LOCAL_IN),
    ("forward", NF_INET_FORWARD),
    ("local-out", NF_INET_LOCAL_OUT),
    ("post-routing", NF_INET_POST_ROUTING),
];

/// Named netfilter priorities as nftables names them (and `conntrack`),
/// lowest first. The values are the same for IPv4 and IPv6.
pub const PRIORITIES: [(&str, i32); 7] = [
    ("raw", NF_IP_PRI_RAW),
    ("conntrack", NF_IP_PRI_CONNTRACK),
    ("mangle", NF_IP_PRI_MANGLE),
    ("dstnat", NF_IP_PRI_NAT_DST),
    ("filter", NF_IP_PRI_FILTER),
    ("security", NF_IP_PRI_SECURITY),
    ("srcnat", NF_IP_PRI_NAT_SRC),
];

/// The name that means `dstnat` or `srcnat` depending on the hook.
pub const NAT: &str = "nat";

/// The hook's name, e.g. "local-in".
pub fn hook_name(hook: u32) -> Option<&'static str> {
    HOOKS.iter().find(|&&(_, h)| h == hook).map(|&(n, _)| n)
}

/// The family's name, e.g. "ipv6".
pub fn family_name(family: u32) -> Option<&'static str> {
    FAMILIES
        .iter()
        .find(|&&(_, f)| f == family)
        .map(|&(n, _)| n)
}

/// `kwasm_prog_show.abi` by name.
pub fn abi_name(abi: u32) -> Option<&'static str> {
    match abi {
        KWASM_ABI_KWASM => Some("kwasm"),
        KWASM_ABI_ORIGINAL => Some("original"),
        _ => None,
    }
}

/// A verdict by name.
pub fn verdict_name(verdict: u32) -> Option<&'static str> {
    match verdict {
        KWASM_ACCEPT => Some("accept"),
        KWASM_DROP => Some("drop"),
        _ => None,
    }
}

/// Trap kinds (`KWASM_TRAP_*`, the index) by the names the kernel gives
/// them (`trap_name` of a test-run, `trap.NAME` in `/proc/kwasm`).
pub const TRAP_NAMES: [&str; KWASM_TRAP_COUNT as usize] = [
    "none",
    "unreachable",
    "out_of_bounds",
    "divide_by_zero",
    "integer_overflow",
    "invalid_conversion",
    "indirect_call",
    "stack_overflow",
    "host",
    "other",
    "out_of_fuel",
    "no_stack",
];

/// The priority `nat` means at `hook`: `dstnat` where packets come in or
/// leave a local process (pre-routing, local-out), `srcnat` where they
/// reach one or leave the machine (local-in, post-routing); none at
/// forward.
pub fn nat_priority(hook: u32) -> Option<(&'static str, i32)> {
    match hook {
        NF_INET_PRE_ROUTING | NF_INET_LOCAL_OUT => Some(("dstnat", NF_IP_PRI_NAT_DST)),
        NF_INET_LOCAL_IN | NF_INET_POST_ROUTING => Some(("srcnat", NF_IP_PRI_NAT_SRC)),
        _ => None,
    }
}

/// A priority as written: a number, or a name with an offset
/// (`filter`, `filter+10`, `raw-5`, `nat`), as nftables writes them.
/// [`Priority::value`] gives the number for a hook.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Priority {
    /// A number, passed on as it is.
    Number(i32),
    /// One of [`PRIORITIES`] or [`NAT`], plus `offset`.
    Named { name: &'static str, offset: i64 },
}

/// Why a priority is not one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PriorityError {
    /// Neither a number nor a known name.
    Unknown(String),
    /// A name followed by something other than `+N` or `-N`.
    BadOffset(String),
    /// Outside `i32`.
    OutOfRange(String),
    /// `nat` at a hook where it means neither.
    NatAtHook(u32),
}

impl fmt::Display for PriorityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unknown(text) => {
                let names: Vec<&str> = PRIORITIES.iter().map(|&(n, _)| n).collect();
                write!(
                    f,
                    "priority '{text}' is neither a number nor one of {}, {NAT} \
                     (each with an optional +N or -N)",
                    names.join(", ")
                )
            }
            Self::BadOffset(text) => write!(
                f,
                "priority '{text}': a name takes an offset as +N or -N (e.g. filter+10)"
            ),
            Self::OutOfRange(text) => {
                write!(f, "priority '{text}' is outside {}..{}", i32::MIN, i32::MAX)
            }
            Self::NatAtHook(hook) => write!(
                f,
                "priority {NAT} is dstnat at pre-routing and local-out, srcnat at local-in \
                 and post-routing; at {} name dstnat or srcnat",
                hook_name(*hook).unwrap_or("this hook")
            ),
        }
    }
}

impl std::error::Error for PriorityError {}

impl FromStr for Priority {
    type Err = PriorityError;

    fn from_str(text: &str) -> Result<Self, PriorityError> {
        let t = text.trim();
        let numeric = t.trim_start_matches(['+', '-']);
        if numeric.starts_with(|c: char| c.is_ascii_digit()) {
            return match t.parse::<i64>() {
                Ok(n) => i32::try_from(n)
                    .map(Self::Number)
                    .map_err(|_| PriorityError::OutOfRange(text.into())),
                Err(_) if t.bytes().skip(1).all(|b| b.is_ascii_digit()) => {
                    Err(PriorityError::OutOfRange(text.into()))
                }
                Err(_) => Err(PriorityError::Unknown(text.into())),
            };
        }
        let end = t.find(['+', '-']).unwrap_or(t.len());
        let (word, rest) = t.split_at(end);
        let word = word.trim_end();
        let name = PRIORITIES
            .iter()
            .map(|&(n, _)| n)
            .chain([NAT])
            .find(|&n| n == word)
            .ok_or_else(|| PriorityError::Unknown(text.into()))?;
        let offset = if rest.is_empty() {
            0
        } else {
            let (sign, digits) = rest.split_at(1);
            let digits = digits.trim_start();
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(PriorityError::BadOffset(text.into()));
            }
            // Anything past i32's width is out of range whatever the base.
            let n: i64 = digits
                .parse()
                .ok()
                .filter(|&n: &i64| n <= 1 << 33)
                .ok_or_else(|| PriorityError::OutOfRange(text.into()))?;
            if sign == "-" {
                -n
            } else {
                n
            }
        };
        Ok(Self::Named { name, offset })
    }
}

impl Priority {
    /// The number for a program at `hook`; a number is itself (the kernel
    /// refuses the first and the last, `NF_IP_PRI_FIRST`/`LAST`, itself).
    pub fn value(&self, hook: u32) -> Result<i32, PriorityError> {
        let (name, offset) = match *self {
            Self::Number(n) => return Ok(n),
            Self::Named { name, offset } => (name, offset),
        };
        let base = if name == NAT {
            nat_priority(hook).ok_or(PriorityError::NatAtHook(hook))?.1
        } else {
            PRIORITIES
                .iter()
                .find(|&&(n, _)| n == name)
                .map_or(0, |&(_, v)| v)
        };
        i32::try_from(i64::from(base) + offset)
            .map_err(|_| PriorityError::OutOfRange(self.to_string()))
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Number(n) => write!(f, "{n}"),
            Self::Named { name, offset: 0 } => write!(f, "{name}"),
            Self::Named { name, offset } => write!(f, "{name}{offset:+}"),
        }
    }
}

/// How far from a named priority [`priority_label`] still names it, as
/// nftables does when it lists chains.
pub const PRIORITY_LABEL_RANGE: i64 = 10;

/// A number as a named priority with an offset (`filter`, `filter+10`,
/// `raw-5`) when it is within [`PRIORITY_LABEL_RANGE`] of one.
pub fn priority_label(priority: i32) -> Option<String> {
    let p = i64::from(priority);
    PRIORITIES
        .iter()
        .map(|&(name, v)| (name, p - i64::from(v)))
        .filter(|&(_, off)| off.abs() <= PRIORITY_LABEL_RANGE)
        .min_by_key(|&(_, off)| off.abs())
        .map(|(name, offset)| Priority::Named { name, offset }.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, hook: u32) -> Result<i32, PriorityError> {
        text.parse::<Priority>()?.value(hook)
    }

    fn pri(text: &str) -> Result<i32, PriorityError> {
        at(text, NF_INET_LOCAL_IN)
    }

    #[test]
    fn values_are_netfilters() {
        let table: Vec<(&str, i32)> = PRIORITIES.to_vec();
        assert_eq!(
            table,
            [
                ("raw", -300),
                ("conntrack", -200),
                ("mangle", -150),
                ("dstnat", -100),
                ("filter", 0),
                ("security", 50),
                ("srcnat", 100)
            ]
        );
        assert_eq!(
            (NF_IP_PRI_FIRST, NF_IP_PRI_LAST),
            (i32::MIN, i32::MAX),
            "the kernel's own"
        );
        assert_eq!(KWASM_DEFAULT_PRIORITY as i32, NF_IP_PRI_FILTER);
    }

    #[test]
    fn numbers_pass_unchanged() {
        assert_eq!(pri("0"), Ok(0));
        assert_eq!(pri("-150"), Ok(-150));
        assert_eq!(pri("+7"), Ok(7));
        assert_eq!(pri(" 12 "), Ok(12));
        assert_eq!(pri("-2147483648"), Ok(i32::MIN));
        assert_eq!(pri("2147483647"), Ok(i32::MAX));
        assert_eq!(
            pri("2147483648"),
            Err(PriorityError::OutOfRange("2147483648".into()))
        );
        assert!(matches!(
            pri("-99999999999999999999999"),
            Err(PriorityError::OutOfRange(_))
        ));
        assert!(matches!(pri("12x"), Err(PriorityError::Unknown(_))));
        assert!(matches!(pri("--1"), Err(PriorityError::Unknown(_))));
    }

    #[test]
    fn names_and_offsets() {
        assert_eq!(pri("raw"), Ok(-300));
        assert_eq!(pri("conntrack"), Ok(-200));
        assert_eq!(pri("mangle"), Ok(-150));
        assert_eq!(pri("dstnat"), Ok(-100));
        assert_eq!(pri("filter"), Ok(0));
        assert_eq!(pri("security"), Ok(50));
        assert_eq!(pri("srcnat"), Ok(100));
        assert_eq!(pri("filter+10"), Ok(10));
        assert_eq!(pri("raw-5"), Ok(-305));
        assert_eq!(pri("mangle+0"), Ok(-150));
        assert_eq!(pri("filter + 3"), Ok(3));
        assert_eq!(pri("srcnat-200"), Ok(-100));
        assert!(matches!(pri("Filter"), Err(PriorityError::Unknown(_))));
        assert!(matches!(pri("nope+1"), Err(PriorityError::Unknown(_))));
        assert!(matches!(pri(""), Err(PriorityError::Unknown(_))));
        for bad in [
            "filter+",
            "filter-",
            "filter+x",
            "filter+-1",
            "filter++1",
            "filter+1+1",
        ] {
            assert_eq!(pri(bad), Err(PriorityError::BadOffset(bad.into())), "{bad}");
        }
        let p: Priority = "security-3".parse().unwrap();
        assert_eq!(p.to_string(), "security-3");
        assert_eq!("raw".parse::<Priority>().unwrap().to_string(), "raw");
    }

    #[test]
    fn nat_by_hook() {
        assert_eq!(at("nat", NF_INET_PRE_ROUTING), Ok(-100));
        assert_eq!(at("nat", NF_INET_LOCAL_OUT), Ok(-100));
        assert_eq!(at("nat", NF_INET_LOCAL_IN), Ok(100));
        assert_eq!(at("nat", NF_INET_POST_ROUTING), Ok(100));
        assert_eq!(at("nat+5", NF_INET_POST_ROUTING), Ok(105));
        assert_eq!(at("nat-1", NF_INET_PRE_ROUTING), Ok(-101));
        let err = at("nat", NF_INET_FORWARD).unwrap_err();
        assert_eq!(err, PriorityError::NatAtHook(NF_INET_FORWARD));
        assert!(err.to_string().contains("at forward name dstnat or srcnat"));
        // The other names do not depend on the hook.
        assert_eq!(at("dstnat", NF_INET_FORWARD), Ok(-100));
    }

    #[test]
    fn overflow() {
        assert_eq!(pri("filter+2147483647"), Ok(i32::MAX));
        assert_eq!(pri("srcnat+2147483547"), Ok(i32::MAX));
        assert_eq!(
            pri("srcnat+2147483548"),
            Err(PriorityError::OutOfRange("srcnat+2147483548".into()))
        );
        assert_eq!(pri("raw-2147483348"), Ok(i32::MIN));
        assert!(matches!(
            pri("raw-2147483349"),
            Err(PriorityError::OutOfRange(_))
        ));
        assert!(matches!(
            pri("filter+99999999999999999999"),
            Err(PriorityError::OutOfRange(_))
        ));
        assert!(PriorityError::OutOfRange("x".into())
            .to_string()
            .contains("-2147483648..2147483647"));
    }

    #[test]
    fn labels() {
        assert_eq!(priority_label(0).as_deref(), Some("filter"));
        assert_eq!(priority_label(10).as_deref(), Some("filter+10"));
        assert_eq!(priority_label(-10).as_deref(), Some("filter-10"));
        assert_eq!(priority_label(11), None);
        assert_eq!(priority_label(-305).as_deref(), Some("raw-5"));
        assert_eq!(priority_label(100).as_deref(), Some("srcnat"));
        assert_eq!(priority_label(i32::MIN), None);
        assert_eq!(priority_label(i32::MAX), None);
    }

    #[test]
    fn other_names() {
        assert_eq!(hook_name(NF_INET_LOCAL_OUT), Some("local-out"));
        assert_eq!(hook_name(9), None);
        assert_eq!(HOOKS.map(|(_, h)| h), [0, 1, 2, 3, 4], "NF_INET_* in order");
        assert_eq!(family_name(KWASM_FAMILY_INET), Some("inet"));
        assert_eq!(family_name(2), Some("ipv4"));
        assert_eq!(family_name(10), Some("ipv6"));
        assert_eq!(family_name(3), None);
        assert_eq!(abi_name(KWASM_ABI_ORIGINAL), Some("original"));
        assert_eq!(verdict_name(KWASM_DROP), Some("drop"));
        assert_eq!(TRAP_NAMES[KWASM_TRAP_OUT_OF_FUEL as usize], "out_of_fuel");
        assert_eq!(TRAP_NAMES[KWASM_TRAP_NO_STACK as usize], "no_stack");
        assert_eq!(
            TRAP_NAMES[KWASM_TRAP_DIV_BY_ZERO as usize],
            "divide_by_zero"
        );
    }
}
