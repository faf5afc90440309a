-- The keys CI jobs' ID tokens (`id_tokens:`, OpenID Connect JWTs) are signed with: RSA keys of
-- the instance, made once by the first server that needs one and shared by every server of a
-- cluster. The newest generation signs; every row is published at /oauth/discovery/keys, so a
-- later rotation only adds a generation and removes the old one once its tokens have expired.
CREATE TABLE ci_signing_keys (
    id INTEGER PRIMARY KEY,
    -- 1 for the first key; two servers making the first key at once cannot both win.
    generation INTEGER NOT NULL UNIQUE,
    -- The key's id in tokens and the key set: its RFC 7638 thumbprint.
    kid TEXT NOT NULL UNIQUE,
    -- The public key: modulus and exponent, big-endian, as hex.
    modulus TEXT NOT NULL,
    exponent TEXT NOT NULL,
    -- The private key (PKCS#1 DER), sealed with the server's secret key, bound to its kid.
    private_key TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
