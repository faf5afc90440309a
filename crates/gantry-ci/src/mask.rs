//! Masking secrets in a job log that arrives in pieces: every occurrence of a masked value is
//! replaced by `[MASKED]`, also when the value is split across two pieces. The masker holds
//! back the end of a piece that could be the start of a secret until the next piece (or the
//! end of the log) tells. The held-back bytes live in the masker ([`Masker::push`]) or, when
//! pieces may reach different processes, with the caller ([`Masker::push_after`]).

/// What a masked value becomes.
pub const MASK: &[u8] = b"[MASKED]";

/// A streaming replacer of secrets in bytes.
#[derive(Debug, Clone, Default)]
pub struct Masker {
    secrets: Vec<Vec<u8>>,
    held: Vec<u8>,
}

impl Masker {
    /// A masker for these values; empty values are ignored, longer values win over their
    /// prefixes.
    pub fn new<S: AsRef<[u8]>>(secrets: impl IntoIterator<Item = S>) -> Masker {
        let mut secrets: Vec<Vec<u8>> =
            secrets.into_iter().map(|s| s.as_ref().to_vec()).filter(|s| !s.is_empty()).collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Masker { secrets, held: Vec::new() }
    }

    /// Whether there is nothing to mask.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// Takes the next piece and returns what can be released now.
    pub fn push(&mut self, piece: &[u8]) -> Vec<u8> {
        let held = std::mem::take(&mut self.held);
        let (out, held) = self.push_after(&held, piece);
        self.held = held;
        out
    }

    /// The end of the log: releases what was held back.
    pub fn finish(&mut self) -> Vec<u8> {
        let held = std::mem::take(&mut self.held);
        self.finish_after(&held)
    }

    /// Takes the next piece after `held`, the bytes the previous piece held back (kept by the
    /// caller, not the masker); returns what can be released now and what to hold back.
    pub fn push_after(&self, held: &[u8], piece: &[u8]) -> (Vec<u8>, Vec<u8>) {
        if self.secrets.is_empty() {
            let mut out = held.to_vec();
            out.extend_from_slice(piece);
            return (out, Vec::new());
        }
        let mut input = held.to_vec();
        input.extend_from_slice(piece);
        let (out, rest) = self.replace(&input, false);
        (out, input[rest..].to_vec())
    }

    /// The end of a log whose last piece held back `held`: releases it, masked.
    pub fn finish_after(&self, held: &[u8]) -> Vec<u8> {
        self.replace(held, true).0
    }

    /// Replaces every whole secret in `input`; unless `last`, stops before a tail that is the
    /// beginning of a secret and returns where that tail starts.
    fn replace(&self, input: &[u8], last: bool) -> (Vec<u8>, usize) {
        let mut out = Vec::with_capacity(input.len());
        let mut at = 0;
        while at < input.len() {
            let rest = &input[at..];
            // A longer secret may still match once more bytes arrive: wait for them.
            if !last && self.secrets.iter().any(|s| s.len() > rest.len() && s.starts_with(rest)) {
                return (out, at);
            }
            if let Some(secret) = self.secrets.iter().find(|s| rest.starts_with(s)) {
                out.extend_from_slice(MASK);
                at += secret.len();
                continue;
            }
            out.push(input[at]);
            at += 1;
        }
        (out, at)
    }
}

/// Masks a whole text at once.
pub fn mask_all<S: AsRef<[u8]>>(secrets: impl IntoIterator<Item = S>, text: &[u8]) -> Vec<u8> {
    let mut masker = Masker::new(secrets);
    let mut out = masker.push(text);
    out.extend(masker.finish());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked_in_pieces(secrets: &[&str], text: &str, size: usize) -> String {
        let mut masker = Masker::new(secrets);
        let mut out = Vec::new();
        for piece in text.as_bytes().chunks(size) {
            out.extend(masker.push(piece));
        }
        out.extend(masker.finish());
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn secrets_are_masked_however_the_log_is_cut() {
        let text = "token=s3cr3t-value and again s3cr3t-value; s3cr3t-valu is not it\n";
        let want = "token=[MASKED] and again [MASKED]; s3cr3t-valu is not it\n";
        for size in 1..text.len() {
            assert_eq!(masked_in_pieces(&["s3cr3t-value"], text, size), want, "pieces of {size}");
        }
    }

    #[test]
    fn the_longest_secret_wins_and_overlaps_are_masked() {
        assert_eq!(masked_in_pieces(&["abcd1234", "abcd1234wxyz"], "xabcd1234wxyz abcd1234", 3), "x[MASKED] [MASKED]");
        assert_eq!(masked_in_pieces(&["aaaa-aaaa"], "aaaaaaaa-aaaa-aaaa", 2), "aaaa[MASKED]-aaaa");
    }

    #[test]
    fn the_held_back_bytes_may_be_kept_by_the_caller() {
        // As when each piece reaches another server: a fresh masker, the held bytes stored.
        let text = b"a s3cr3t-value b s3cr3t-valu";
        for size in 1..text.len() {
            let mut held = Vec::new();
            let mut out = Vec::new();
            for piece in text.chunks(size) {
                let (released, rest) = Masker::new(["s3cr3t-value"]).push_after(&held, piece);
                out.extend(released);
                held = rest;
            }
            out.extend(Masker::new(["s3cr3t-value"]).finish_after(&held));
            assert_eq!(out, b"a [MASKED] b s3cr3t-valu", "pieces of {size}");
        }
    }

    #[test]
    fn nothing_to_mask_passes_through() {
        let mut masker = Masker::new(Vec::<String>::new());
        assert_eq!(masker.push(b"abc"), b"abc");
        assert!(masker.finish().is_empty());
        assert_eq!(mask_all(["x1"], b"ax1x1b"), b"a[MASKED][MASKED]b");
    }
}
