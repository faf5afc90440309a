//! Just enough OpenPGP (RFC 4880) to take a GPG public key: the ASCII armor and its CRC-24,
//! packet headers, the version 4 public-key packet (whose fingerprint is SHA-1 over `0x99`, a
//! two-byte length and the packet's body; its key id the fingerprint's last 8 bytes) and the
//! user id packets, for the addresses a key names. Nothing is verified cryptographically:
//! signatures are skipped, as commit signatures are not checked yet.

use base64::Engine;
use sha1::{Digest, Sha1};

/// How a public key's armor begins (GitLab's message quotes it).
pub const PUBLIC_KEY_BEGIN: &str = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
const PUBLIC_KEY_END: &str = "-----END PGP PUBLIC KEY BLOCK-----";
/// The longest armored key taken (keys with many signatures run to a few hundred KiB).
pub const MAX_ARMORED_LEN: usize = 1024 * 1024;

const TAG_SECRET_KEY: u8 = 5;
const TAG_PUBLIC_KEY: u8 = 6;
const TAG_SECRET_SUBKEY: u8 = 7;
const TAG_USER_ID: u8 = 13;

/// What Gantry keeps of a public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedGpgKey {
    /// The primary key's fingerprint: 40 hex digits, upper case.
    pub fingerprint: String,
    /// The fingerprint's last 16 hex digits.
    pub primary_keyid: String,
    /// The user ids (`Name (comment) <address>`), in the key's order.
    pub user_ids: Vec<String>,
}

impl ParsedGpgKey {
    /// The addresses the user ids name (`<…>`), lower case, without repeats.
    pub fn emails(&self) -> Vec<String> {
        let mut emails: Vec<String> = Vec::new();
        for user_id in &self.user_ids {
            let address = match (user_id.rfind('<'), user_id.rfind('>')) {
                (Some(open), Some(close)) if open < close => &user_id[open + 1..close],
                _ if user_id.contains('@') && !user_id.contains(' ') => user_id.as_str(),
                _ => continue,
            };
            let address = address.trim().to_lowercase();
            if !address.is_empty() && !emails.contains(&address) {
                emails.push(address);
            }
        }
        emails
    }
}

/// Why a text is not a public key Gantry takes; the message completes "key …".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRefusal(pub String);

fn refuse<T>(message: impl Into<String>) -> Result<T, KeyRefusal> {
    Err(KeyRefusal(message.into()))
}

/// Parses one ASCII-armored OpenPGP public key.
pub fn parse_armored_public_key(text: &str) -> Result<ParsedGpgKey, KeyRefusal> {
    let text = text.trim();
    if text.len() > MAX_ARMORED_LEN {
        return refuse(format!("is too long (at most {} KiB)", MAX_ARMORED_LEN / 1024));
    }
    if text.contains("PRIVATE KEY BLOCK") {
        return refuse(
            "looks like a private key: export the public one (gpg --armor --export <key id>) and keep the private one \
             secret",
        );
    }
    let Some(body) = text.strip_prefix(PUBLIC_KEY_BEGIN) else {
        return refuse(format!("is invalid. A valid public GPG key begins with '{PUBLIC_KEY_BEGIN}'"));
    };
    if body.contains(PUBLIC_KEY_BEGIN) {
        return refuse("holds more than one key block: add one key at a time");
    }
    let Some(body) = body.trim_end().strip_suffix(PUBLIC_KEY_END) else {
        return refuse(format!("is invalid: it does not end with '{PUBLIC_KEY_END}'"));
    };
    let data = dearmor(body)?;
    parse_packets(&data)
}

/// The bytes of an armor's body (headers skipped), checked against its CRC-24 if it has one.
fn dearmor(body: &str) -> Result<Vec<u8>, KeyRefusal> {
    let mut lines = body.lines().map(str::trim).skip_while(|line| line.is_empty()).peekable();
    // Armor headers (`Version: …`, `Comment: …`) end at a blank line.
    if lines.peek().is_some_and(|line| line.contains(": ")) {
        while lines.next_if(|line| !line.is_empty()).is_some() {}
    }
    let mut encoded = String::new();
    let mut checksum = None;
    for line in lines.filter(|line| !line.is_empty()) {
        if let Some(crc) = line.strip_prefix('=').filter(|crc| crc.len() == 4) {
            checksum = Some(crc.to_owned());
            break;
        }
        encoded.push_str(line);
    }
    let engine = base64::engine::general_purpose::STANDARD;
    let Ok(data) = engine.decode(encoded.as_bytes()) else {
        return refuse("is invalid: its armored body is not base64");
    };
    if data.is_empty() {
        return refuse("is invalid: the key block is empty");
    }
    if let Some(checksum) = checksum {
        let expected =
            engine.decode(checksum.as_bytes()).map_err(|_| KeyRefusal("has an invalid checksum line".into()))?;
        let crc = crc24(&data).to_be_bytes();
        if expected.as_slice() != &crc[1..] {
            return refuse("is damaged: its checksum does not match (was it copied whole?)");
        }
    }
    Ok(data)
}

/// OpenPGP's CRC-24 (RFC 4880, 6.1).
fn crc24(data: &[u8]) -> u32 {
    let mut crc: u32 = 0x00B7_04CE;
    for byte in data {
        crc ^= u32::from(*byte) << 16;
        for _ in 0..8 {
            crc <<= 1;
            if crc & 0x0100_0000 != 0 {
                crc ^= 0x0186_4CFB;
            }
        }
    }
    crc & 0x00FF_FFFF
}

/// One packet: its tag and body.
struct Packet<'a> {
    tag: u8,
    body: &'a [u8],
}

/// Splits `data` into packets (RFC 4880, 4.2); partial lengths are not used by keys.
fn packets(mut data: &[u8]) -> Result<Vec<Packet<'_>>, KeyRefusal> {
    let truncated = || KeyRefusal("is invalid: a packet is cut short".to_owned());
    let mut found = Vec::new();
    while let Some((&first, rest)) = data.split_first() {
        if first & 0x80 == 0 {
            return refuse("is invalid: it is not OpenPGP data");
        }
        let (tag, length, rest) = if first & 0x40 != 0 {
            let tag = first & 0x3F;
            let (&o1, rest) = rest.split_first().ok_or_else(truncated)?;
            match o1 {
                0..=191 => (tag, usize::from(o1), rest),
                192..=223 => {
                    let (&o2, rest) = rest.split_first().ok_or_else(truncated)?;
                    (tag, ((usize::from(o1) - 192) << 8) + usize::from(o2) + 192, rest)
                }
                255 => {
                    let bytes = rest.get(..4).ok_or_else(truncated)?;
                    let length = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
                    (tag, usize::try_from(length).map_err(|_| truncated())?, &rest[4..])
                }
                _ => return refuse("is invalid: it uses partial packet lengths, which keys do not"),
            }
        } else {
            let tag = (first >> 2) & 0x0F;
            let size = match first & 0x03 {
                0 => 1,
                1 => 2,
                2 => 4,
                _ => return refuse("is invalid: it uses indeterminate packet lengths, which keys do not"),
            };
            let bytes = rest.get(..size).ok_or_else(truncated)?;
            let length = bytes.iter().fold(0usize, |length, byte| (length << 8) | usize::from(*byte));
            (tag, length, &rest[size..])
        };
        let body = rest.get(..length).ok_or_else(truncated)?;
        found.push(Packet { tag, body });
        data = &rest[length..];
    }
    Ok(found)
}

fn parse_packets(data: &[u8]) -> Result<ParsedGpgKey, KeyRefusal> {
    let packets = packets(data)?;
    let Some(first) = packets.first() else { return refuse("is invalid: the key block is empty") };
    if matches!(first.tag, TAG_SECRET_KEY | TAG_SECRET_SUBKEY) {
        return refuse("is a private key: export the public one (gpg --armor --export <key id>)");
    }
    if first.tag != TAG_PUBLIC_KEY {
        return refuse("is invalid: it does not start with a public key");
    }
    if packets.iter().skip(1).any(|packet| packet.tag == TAG_PUBLIC_KEY) {
        return refuse("holds more than one key: add one key at a time");
    }
    if packets.iter().any(|packet| matches!(packet.tag, TAG_SECRET_KEY | TAG_SECRET_SUBKEY)) {
        return refuse("holds private key material: export the public key only");
    }
    let fingerprint = v4_fingerprint(first.body)?;
    let user_ids = packets
        .iter()
        .filter(|packet| packet.tag == TAG_USER_ID)
        .map(|packet| String::from_utf8_lossy(packet.body).into_owned())
        .collect();
    let fingerprint = hex::encode_upper(fingerprint);
    let primary_keyid = fingerprint[24..].to_owned();
    Ok(ParsedGpgKey { fingerprint, primary_keyid, user_ids })
}

/// A version 4 public key's fingerprint (RFC 4880, 12.2).
fn v4_fingerprint(body: &[u8]) -> Result<[u8; 20], KeyRefusal> {
    match body.first() {
        Some(4) => {}
        Some(2 | 3) => return refuse("is a version 3 key, which is no longer safe: create a new key"),
        Some(version) => return refuse(format!("is a version {version} key: only version 4 keys are supported")),
        None => return refuse("is invalid: its public key packet is empty"),
    }
    // Version, creation time, algorithm, and at least some key material.
    if body.len() < 8 {
        return refuse("is invalid: its public key packet is cut short");
    }
    let length = u16::try_from(body.len()).map_err(|_| KeyRefusal("is invalid: its public key is too long".into()))?;
    let mut hasher = Sha1::new();
    hasher.update([0x99]);
    hasher.update(length.to_be_bytes());
    hasher.update(body);
    Ok(hasher.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// python-gitlab's test key (GitLab's own test suite uses the same kind).
    const KEY: &str = "-----BEGIN PGP PUBLIC KEY BLOCK-----

mQENBFn5mzYBCADH6SDVPAp1zh/hxmTi0QplkOfExBACpuY6OhzNdIg+8/528b3g
Y5YFR6T/HLv/PmeHskUj21end1C0PNG2T9dTx+2Vlh9ISsSG1kyF9T5fvMR3bE0x
Dl6S489CXZrjPTS9SHk1kF+7dwjUxLJyxF9hPiSihFefDFu3NeOtG/u8vbC1mewQ
ZyAYue+mqtqcCIFFoBz7wHKMWjIVSJSyTkXExu4OzpVvy3l2EikbvavI3qNz84b+
Mgkv/kiBlNoCy3CVuPk99RYKZ3lX1vVtqQ0OgNGQvb4DjcpyjmbKyibuZwhDjIOh
au6d1OyEbayTntd+dQ4j9EMSnEvm/0MJ4eXPABEBAAG0G0dpdGxhYlRlc3QxIDxm
YWtlQGZha2UudGxkPokBNwQTAQgAIQUCWfmbNgIbAwULCQgHAgYVCAkKCwIEFgID
AQIeAQIXgAAKCRBgxELHf8f3hF3yB/wNJlWPKY65UsB4Lo0hs1OxdxCDqXogSi0u
6crDEIiyOte62pNZKzWy8TJcGZvznRTZ7t8hXgKFLz3PRMcl+vAiRC6quIDUj+2V
eYfwaItd1lUfzvdCaC7Venf4TQ74f5vvNg/zoGwE6eRoSbjlLv9nqsxeA0rUBUQL
LYikWhVMP3TrlfgfduYvh6mfgh57BDLJ9kJVpyfxxx9YLKZbaas9sPa6LgBtR555
JziUxHmbEv8XCsUU8uoFeP1pImbNBplqE3wzJwzOMSmmch7iZzrAwfN7N2j3Wj0H
B5kQddJ9dmB4BbU0IXGhWczvdpxboI2wdY8a1JypxOdePoph/43iuQENBFn5mzYB
CADnTPY0Zf3d9zLjBNgIb3yDl94uOcKCq0twNmyjMhHzGqw+UMe9BScy34GL94Al
xFRQoaL+7P8hGsnsNku29A/VDZivcI+uxTx4WQ7OLcn7V0bnHV4d76iky2ufbUt/
GofthjDs1SonePO2N09sS4V4uK0d5N4BfCzzXgvg8etCLxNmC9BGt7AaKUUzKBO4
2QvNNaC2C/8XEnOgNWYvR36ylAXAmo0sGFXUsBCTiq1fugS9pwtaS2JmaVpZZ3YT
pMZlS0+SjC5BZYFqSmKCsA58oBRzCxQz57nR4h5VEflgD+Hy0HdW0UHETwz83E6/
U0LL6YyvhwFr6KPq5GxinSvfABEBAAGJAR8EGAEIAAkFAln5mzYCGwwACgkQYMRC
x3/H94SJgwgAlKQb10/xcL/epdDkR7vbiei7huGLBpRDb/L5fM8B5W77Qi8Xmuqj
cCu1j99ZCA5hs/vwVn8j8iLSBGMC5gxcuaar/wtmiaEvT9fO/h6q4opG7NcuiJ8H
wRj8ccJmRssNqDD913PLz7T40Ts62blhrEAlJozGVG/q7T3RAZcskOUHKeHfc2RI
YzGsC/I9d7k6uxAv1L9Nm5F2HaAQDzhkdd16nKkGaPGR35cT1JLInkfl5cdm7ldN
nxs4TLO3kZjUTgWKdhpgRNF5hwaz51ZjpebaRf/ZqRuNyX4lIRolDxzOn/+O1o8L
qG2ZdhHHmSK2LaQLFiSprUkikStNU9BqSQ==
=5OGa
-----END PGP PUBLIC KEY BLOCK-----";

    #[test]
    fn reads_a_real_key_its_fingerprint_key_id_and_addresses() {
        let key = parse_armored_public_key(&format!("\n  {KEY}\n")).unwrap();
        // As `gpg --show-keys` prints them.
        assert_eq!(key.fingerprint, "05552B1F11F1FBDF467EF4D560C442C77FC7F784");
        assert_eq!(key.primary_keyid, "60C442C77FC7F784");
        assert_eq!(key.user_ids, ["GitlabTest1 <fake@fake.tld>"]);
        assert_eq!(key.emails(), ["fake@fake.tld"]);
    }

    #[test]
    fn armor_headers_are_skipped_and_the_checksum_is_optional() {
        let with_header = KEY.replacen("\n\n", "\nVersion: GnuPG v2\nComment: test\n\n", 1);
        let without_crc = KEY.replace("=5OGa\n", "");
        let expected = parse_armored_public_key(KEY).unwrap();
        assert_eq!(parse_armored_public_key(&with_header).unwrap(), expected);
        assert_eq!(parse_armored_public_key(&without_crc).unwrap(), expected);
    }

    #[test]
    fn refuses_what_is_not_one_public_key() {
        let refused = |text: &str| parse_armored_public_key(text).unwrap_err().0;
        assert!(refused("ssh-ed25519 AAAA").contains("begins with '-----BEGIN PGP PUBLIC KEY BLOCK-----'"));
        assert!(refused("-----BEGIN PGP PRIVATE KEY BLOCK-----\nabc").contains("private key"));
        assert!(refused(&KEY.replace("=5OGa", "=AAAA")).contains("checksum"));
        assert!(refused(&KEY.replace("mQENBFn5", "mQENBFn6")).contains("checksum"));
        assert!(refused(&format!("{KEY}\n{KEY}")).contains("more than one"));
        assert!(refused(&KEY.replace("-----END PGP PUBLIC KEY BLOCK-----", "")).contains("does not end"));
        let empty = format!("{PUBLIC_KEY_BEGIN}\n\n{PUBLIC_KEY_END}");
        assert!(refused(&empty).contains("empty"));
        let garbage = format!("{PUBLIC_KEY_BEGIN}\n\nAAAA\n{PUBLIC_KEY_END}");
        assert!(refused(&garbage).contains("not OpenPGP"));
        let huge = format!("{PUBLIC_KEY_BEGIN}\n\n{}\n{PUBLIC_KEY_END}", "A".repeat(MAX_ARMORED_LEN));
        assert!(refused(&huge).contains("too long"));
    }

    #[test]
    fn packets_cut_short_or_of_other_versions_are_refused() {
        let armored = |data: &[u8]| {
            let encoded = base64::engine::general_purpose::STANDARD.encode(data);
            format!("{PUBLIC_KEY_BEGIN}\n\n{encoded}\n{PUBLIC_KEY_END}")
        };
        let refused = |data: &[u8]| parse_armored_public_key(&armored(data)).unwrap_err().0;
        assert!(refused(&[0x99, 0x00, 0x10, 4, 0]).contains("cut short"));
        assert!(refused(&[0xC6, 0x03, 3, 0, 0]).contains("version 3"));
        assert!(refused(&[0xC6, 0x03, 6, 0, 0]).contains("version 6"));
        assert!(refused(&[0xC5, 0x03, 4, 0, 0]).contains("private"));
        assert!(refused(&[0xCD, 0x01, b'a']).contains("does not start with a public key"));
        assert!(refused(&[0xC6, 0xE0]).contains("partial"));
        // A minimal v4 key (old-format header): fingerprint over 0x99, the length and the body.
        let body = [4, 0, 0, 0, 1, 1, 0, 8, 0xFF, 0, 1, 3];
        let mut data = vec![0x98, body.len() as u8];
        data.extend_from_slice(&body);
        let key = parse_armored_public_key(&armored(&data)).unwrap();
        let mut hasher = Sha1::new();
        hasher.update([0x99, 0, body.len() as u8]);
        hasher.update(body);
        assert_eq!(key.fingerprint, hex::encode_upper(hasher.finalize()));
        assert!(key.user_ids.is_empty());
    }

    #[test]
    fn crc24_matches_the_rfc_reference() {
        assert_eq!(crc24(b""), 0x00B7_04CE);
        assert_eq!(crc24(b"123456789"), 0x0021_CF02);
    }
}
