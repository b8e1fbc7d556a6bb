//! Kubernetes resource quantities (`250m`, `1.5`, `512Mi`, `2G`), read far enough to compare
//! them. Output keeps the text the user wrote.

/// What a quantity measures: CPU takes `m` (millicores) or no suffix; memory takes the
/// binary (`Ki`…`Ei`) and decimal (`k`, `M`…`E`) suffixes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Cpu,
    Memory,
}

/// A quantity in thousandths of its unit (millicores, millibytes), so that CPU and memory
/// compare exactly without floating point.
pub(crate) fn parse(text: &str, kind: Kind) -> Result<u128, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, suffix) = t.split_at(split);
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    let not = || match kind {
        Kind::Cpu => format!(
            "`{text}` is not a CPU quantity (cores such as `1` or `0.5`, or millicores such as `250m`)"
        ),
        Kind::Memory => format!(
            "`{text}` is not a memory quantity (bytes with a suffix such as `512Mi` or `2Gi`)"
        ),
    };
    if int.is_empty() && frac.is_empty() || number.matches('.').count() > 1 {
        return Err(not());
    }
    let multiplier: u128 = match (kind, suffix) {
        (_, "") => 1000,
        (Kind::Cpu, "m") => 1,
        (Kind::Memory, "Ki") => 1000 << 10,
        (Kind::Memory, "Mi") => 1000 << 20,
        (Kind::Memory, "Gi") => 1000 << 30,
        (Kind::Memory, "Ti") => 1000 << 40,
        (Kind::Memory, "Pi") => 1000 << 50,
        (Kind::Memory, "Ei") => 1000 << 60,
        (Kind::Memory, "k") => 1000 * 1000,
        (Kind::Memory, "M") => 1000 * 1_000_000,
        (Kind::Memory, "G") => 1000 * 1_000_000_000,
        (Kind::Memory, "T") => 1000 * 1_000_000_000_000,
        (Kind::Memory, "P") => 1000 * 1_000_000_000_000_000,
        (Kind::Memory, "E") => 1000 * 1_000_000_000_000_000_000,
        _ => return Err(not()),
    };
    if frac.len() > 9 {
        return Err(format!("`{text}` has more decimals than Kubernetes keeps"));
    }
    let digits = |s: &str| -> Result<u128, String> {
        if s.is_empty() {
            Ok(0)
        } else {
            s.parse::<u128>()
                .map_err(|_| format!("`{text}` is too large"))
        }
    };
    let scale = 10u128.pow(u32::try_from(frac.len()).unwrap_or(0));
    let whole = digits(int)?
        .checked_mul(scale)
        .and_then(|w| w.checked_add(digits(frac).ok()?))
        .and_then(|w| w.checked_mul(multiplier))
        .ok_or_else(|| format!("`{text}` is too large"))?;
    Ok(whole / scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_and_memory_quantities() {
        assert_eq!(parse("250m", Kind::Cpu), Ok(250));
        assert_eq!(parse("1", Kind::Cpu), Ok(1000));
        assert_eq!(parse("0.5", Kind::Cpu), Ok(500));
        assert_eq!(parse("1.5", Kind::Cpu), Ok(1500));
        assert_eq!(parse("512Mi", Kind::Memory), Ok(512 * 1024 * 1024 * 1000));
        assert_eq!(parse("1Gi", Kind::Memory), parse("1024Mi", Kind::Memory));
        assert_eq!(parse("1G", Kind::Memory), Ok(1_000_000_000_000));
        assert!(parse("1.5Gi", Kind::Memory).unwrap() > parse("1Gi", Kind::Memory).unwrap());
        assert!(parse("512Mi", Kind::Cpu).is_err());
        assert!(parse("250m", Kind::Memory).is_err());
        assert!(parse("", Kind::Cpu).is_err());
        assert!(parse("1.2.3", Kind::Cpu).is_err());
        assert!(parse("lots", Kind::Memory).is_err());
        assert!(parse("99999999999999999999999999999999999Ei", Kind::Memory).is_err());
    }
}
