//! `resource.Quantity` in canonical form, as the API server stores it (k8s.io/apimachinery
//! `pkg/api/resource/quantity.go`, `CanonicalizeBytes`): no fractional digits, the largest suffix that
//! keeps the value exact, the suffix family (binary `Ki`..`Ei`, decimal `n`..`E`, or `e<N>`) kept from the
//! input, except that a binary value under 1024 or with a fraction is written in decimal. Values are
//! rounded up to 1n. `0.5` -> `500m`, `1000m` -> `1`, `1024Mi` -> `1Gi`, `1.5Gi` -> `1536Mi`.

#[derive(Clone, Copy, PartialEq)]
enum Format {
    BinarySI,
    DecimalSI,
    DecimalExponent,
}

const DECIMAL: &[(&str, i32)] = &[
    ("n", -9),
    ("u", -6),
    ("m", -3),
    ("", 0),
    ("k", 3),
    ("M", 6),
    ("G", 9),
    ("T", 12),
    ("P", 15),
    ("E", 18),
];
const BINARY: &[(&str, u32)] = &[("Ki", 1), ("Mi", 2), ("Gi", 3), ("Ti", 4), ("Pi", 5), ("Ei", 6)];

/// (value = mantissa * 10^exp10, format) of a quantity string, or None if it is not one.
fn parse(s: &str) -> Option<(i128, i32, Format)> {
    let s = s.trim();
    let (neg, body) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let num_end = body
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(body.len());
    let (num, suffix) = body.split_at(num_end);
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    if int.is_empty() && frac.is_empty() || frac.contains('.') {
        return None;
    }
    let digits = format!("{int}{frac}");
    let mut mantissa: i128 = digits.trim_start_matches('0').parse().unwrap_or(0);
    if digits.len() > 30 {
        return None;
    }
    let mut exp10 = -(frac.len() as i32);
    let format = if let Some((_, p)) = BINARY.iter().find(|(n, _)| *n == suffix) {
        mantissa = mantissa.checked_mul(1i128.checked_shl(10 * p)?)?;
        Format::BinarySI
    } else if let Some((_, e)) = DECIMAL.iter().find(|(n, _)| *n == suffix) {
        exp10 += e;
        Format::DecimalSI
    } else if let Some(e) = suffix.strip_prefix(['e', 'E']) {
        exp10 += e.parse::<i32>().ok()?;
        Format::DecimalExponent
    } else {
        return None;
    };
    Some((if neg { -mantissa } else { mantissa }, exp10, format))
}

/// The canonical string of a quantity (a string, or a JSON number), or None if it is not a quantity.
pub fn canonical(v: &serde_json::Value) -> Option<String> {
    let text = match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let (mut m, mut e, mut format) = parse(&text)?;
    // round up to 1n (away from zero, as the API server rounds up)
    if e < -9 {
        let div = 10i128.checked_pow((-9 - e) as u32)?;
        let q = m / div;
        m = if m % div != 0 { q + m.signum() } else { q };
        e = -9;
    }
    if m == 0 {
        return Some("0".into());
    }
    while e < 0 && m % 10 == 0 {
        m /= 10;
        e += 1;
    }
    if format == Format::BinarySI {
        let int = (e >= 0)
            .then(|| 10i128.checked_pow(e as u32).and_then(|p| m.checked_mul(p)))
            .flatten();
        match int {
            Some(v) if v.abs() >= 1024 => {
                let (i, suffix) = (0..=6u32)
                    .rev()
                    .find(|i| v % (1i128 << (10 * i)) == 0)
                    .map(|i| (i, if i == 0 { "" } else { BINARY[i as usize - 1].0 }))
                    .unwrap_or((0, ""));
                return Some(format!("{}{suffix}", v >> (10 * i)));
            }
            _ => format = Format::DecimalSI,
        }
    }
    while m % 10 == 0 {
        m /= 10;
        e += 1;
    }
    let x = (e.div_euclid(3) * 3).clamp(-9, 18);
    let mantissa = m.checked_mul(10i128.checked_pow((e - x) as u32)?)?;
    let suffix = match format {
        Format::DecimalExponent if x != 0 => format!("e{x}"),
        Format::DecimalExponent => String::new(),
        _ => DECIMAL
            .iter()
            .find(|(_, p)| *p == x)
            .map(|(n, _)| n.to_string())
            .unwrap_or_default(),
    };
    Some(format!("{mantissa}{suffix}"))
}

#[cfg(test)]
mod tests {
    use super::canonical;
    use serde_json::json;

    #[test]
    fn quantities_take_the_api_servers_canonical_form() {
        for (input, want) in [
            (json!("0.5"), "500m"),
            (json!(0.5), "500m"),
            (json!(1), "1"),
            (json!("1000m"), "1"),
            (json!("1500m"), "1500m"),
            (json!("1500"), "1500"),
            (json!("2000"), "2k"),
            (json!("100Mi"), "100Mi"),
            (json!("1024Mi"), "1Gi"),
            (json!("1.5Gi"), "1536Mi"),
            (json!("0.5Gi"), "512Mi"),
            (json!("512"), "512"),
            (json!("1e3"), "1e3"),
            (json!("1.5e3"), "1500"),
            (json!("0.1"), "100m"),
            (json!("0"), "0"),
            (json!("250m"), "250m"),
            (json!("1Ki"), "1Ki"),
            (json!("100k"), "100k"),
            (json!("1.0000000001"), "1000000001n"),
        ] {
            assert_eq!(canonical(&input).as_deref(), Some(want), "{input}");
        }
        assert_eq!(canonical(&json!("1.5.0")), None);
        assert_eq!(canonical(&json!("ten")), None);
    }
}
