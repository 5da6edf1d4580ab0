//! Names and stamps the server makes up: uids, timestamps, generateName suffixes, base64 data.

use base64::Engine;

pub fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub fn new_uid() -> String {
    let b: [u8; 16] = rand::random();
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
        u16::from_be_bytes([b[4], b[5]]),
        u16::from_be_bytes([b[6], b[7]]) & 0xfff,
        u16::from_be_bytes([b[8], b[9]]) & 0xfff,
        u64::from_be_bytes([0, 0, b[10], b[11], b[12], b[13], b[14], b[15]])
    )
}

/// A random 5-character suffix, like generateName and pod names use.
pub fn suffix() -> String {
    const A: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..5).map(|_| A[rand::random_range(0..A.len())] as char).collect()
}

/// Standard base64 with padding (Secret `data`).
pub fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64() {
        assert_eq!(super::b64(b"hello"), "aGVsbG8=");
        assert_eq!(super::b64(b"hi!"), "aGkh");
        assert_eq!(super::b64(b"a"), "YQ==");
    }
}
