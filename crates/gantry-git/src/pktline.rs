//! git's pkt-line framing: a 4-hex-digit length (including itself) and the payload, `0000`
//! for a flush, `0001` for a delimiter (protocol v2), `0002` for response-end.

/// The largest packet git allows (length prefix included).
pub const MAX_PACKET_LEN: usize = 65520;

/// One packet of a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet<'a> {
    Flush,
    Delimiter,
    ResponseEnd,
    Data(&'a [u8]),
}

/// Why a stream of packets is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PktLineError {
    #[error("malformed pkt-line length {0:?}")]
    BadLength(String),
    #[error("pkt-line longer than {MAX_PACKET_LEN} bytes")]
    TooLong,
    #[error("the pkt-line stream ends in the middle of a packet")]
    Truncated,
}

/// Reads the packet at the start of `input`; returns it and the rest of the input, or
/// `Ok(None)` when `input` is empty.
pub fn read_packet(input: &[u8]) -> Result<Option<(Packet<'_>, &[u8])>, PktLineError> {
    if input.is_empty() {
        return Ok(None);
    }
    let Some(prefix) = input.get(..4) else { return Err(PktLineError::Truncated) };
    let text =
        std::str::from_utf8(prefix).map_err(|_| PktLineError::BadLength(String::from_utf8_lossy(prefix).into()))?;
    let len = usize::from_str_radix(text, 16).map_err(|_| PktLineError::BadLength(text.to_owned()))?;
    let rest = &input[4..];
    let packet = match len {
        0 => return Ok(Some((Packet::Flush, rest))),
        1 => return Ok(Some((Packet::Delimiter, rest))),
        2 => return Ok(Some((Packet::ResponseEnd, rest))),
        3 => return Err(PktLineError::BadLength(text.to_owned())),
        len if len > MAX_PACKET_LEN => return Err(PktLineError::TooLong),
        len => len - 4,
    };
    let payload = rest.get(..packet).ok_or(PktLineError::Truncated)?;
    Ok(Some((Packet::Data(payload), &rest[packet..])))
}

/// Appends one data packet holding `payload` to `out`.
pub fn write_packet(out: &mut Vec<u8>, payload: &[u8]) {
    assert!(payload.len() + 4 <= MAX_PACKET_LEN, "pkt-line payload too long");
    out.extend_from_slice(format!("{:04x}", payload.len() + 4).as_bytes());
    out.extend_from_slice(payload);
}

/// Appends a flush packet.
pub fn write_flush(out: &mut Vec<u8>) {
    out.extend_from_slice(b"0000");
}

/// An `ERR` packet, which git clients print as `fatal: remote error: <message>`.
pub fn error_packet(message: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut text = format!("ERR {message}");
    text.truncate(MAX_PACKET_LEN - 5);
    write_packet(&mut out, text.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_it_writes() {
        let mut out = Vec::new();
        write_packet(&mut out, b"hello\n");
        write_flush(&mut out);
        let (first, rest) = read_packet(&out).unwrap().unwrap();
        assert_eq!(first, Packet::Data(b"hello\n"));
        assert_eq!(read_packet(rest).unwrap().unwrap().0, Packet::Flush);
        assert_eq!(&out[..4], b"000a");
    }

    #[test]
    fn refuses_malformed_packets() {
        assert!(matches!(read_packet(b"zz12"), Err(PktLineError::BadLength(_))));
        assert_eq!(read_packet(b"0003"), Err(PktLineError::BadLength("0003".into())));
        assert_eq!(read_packet(b"ffffxx"), Err(PktLineError::TooLong));
        assert_eq!(read_packet(b"0009ab"), Err(PktLineError::Truncated));
        assert_eq!(read_packet(b"00"), Err(PktLineError::Truncated));
        assert_eq!(error_packet("no").as_slice(), b"000aERR no");
    }
}
