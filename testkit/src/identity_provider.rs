//! A stand-in OAuth2 identity provider for tests: an RSA and a P-256 key pair generated for tests
//! only (`openssl genpkey`), their public JWKS, and tokens signed with them.

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};

pub const RSA_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC9246GrV/gHm63
HKakXhc4xuaoJ+Y8cN41Vs4j378++iXanstY9N9AGTDuf6qWIau4ysxwTMPyeUQt
dskVFST0imnJYGZLnzeIzefMRQ0Z6p2k4t84If994830L0mVYjYqD2Oxe3v1CwCp
I6t67Y7fVivqAOaYCRxjy4ykfYjSLzB8ZjJVPVm7i1H8bgY3LRjZExfLXTkgr07j
Zu1pN1AgNz62a9CwBndeGFkNWRzjoeA6jLdHYJIdWt9LXbyEgW3smrdFrMcnH2vt
rQ/0OUcCvanXLijZ6jmyk8PXFeNFCdfCB2JCS1qHNx0YVWJIf9U7VDpl8veDyLFk
QiVQmrajAgMBAAECggEABks+bCKLpVKWjJ8R7l/PWN3nJmq9zDUlq99nBNnVbWrX
hGoNOoBSDySGpb45U0uZQls4VpfrSweDUuQdztAdO7bqKN3d2XxVJMWtFu19fX8O
ONNSLEc12nnwPIiwx/3+5uGmhjfrKEV0GsDu917jhKETrzWjPCXZLHz1lAjOJCf6
GchMLvWSdbmgdYm6gx1sXKqX3Xn3wboI8Rag55b50k2SYGA/s0dLKYc4kGFRM0Bl
KknZOYSzIyZdlDEc06ZnIkYCxkwSmSL+lQn37hOCub/N0Zk9K+0nXuitkSypDG6W
10QA2bNWG/S7kD5ww1pIcwdsDDKonmSIB6ZOZqBIIQKBgQDkX/YEdkwJDb1JH88u
9m/lyiyMKPJooOZt572novpzSYI/Uw11xf8/MJtvph3osq8HyMnoka1Tzckzvgjt
BFTQ/gNpMApJPMd2hxZ1/zD8yRfMRFMf3FTCygM3/aYfD3Sy/D/qnV4MMtSNqqHt
++Y5Crhv+qXf/Ud7OlGibu3vMQKBgQDU0tdPHbpzYWqcS9rDi+A1tet0jg1Yy40V
TyLmEdowg1qiozrnDC0oAjjpi2VXtY5tg7eBgrw9OI5nHumnFshXMMWDQsItXWsa
m549kn9GkLvDJ9WkV9/4L3g9lGhpO5ZoWqRRAceNPZdtx1izLLupwDZ4bgu9o0Ls
YVPiVS/WEwKBgQCF5R1AkHsT89I+xT+bsTD58QcdRgSaA3wWhABWAOAGJ9sNdYw2
uNdmHQGE/Egc3mZwkfCPQpn0wHpus8RX8mon/kXRrjDZr6DihWFN3UjDbMNfJ8/0
piGr8vTgJv72xwEMz4hJ7enuDP9B8ADwnvfkCb0JKlOGd+EpBpBGQ/OMgQKBgEo4
CRwvKuGn/GzrSyxcsGEqwyUPkPoBan8e7PW9DhFTDZ2gPR9sMKc+NyjDEyGGUFhC
0hEZTZowCgFOV3+Mw2scuBSxiFQXuw05bfLdDwPF36UMVEYO2y2LKGyZP9xLCoXz
7k/NxhCshQ2ksnsxw3RMcvKGthN5RxJ2UrGgsaD/AoGAcxM+qFnTgEGFoiUh52En
6ayTRjg14XG3vUvrr/wlKv6li5mV51kU0gCAp5U21VZ4BM47NDsAToO1vheesTta
rExpvDYxCOcYqGQU+Vv3ISsoht1abBaatCx6ao9zzTmyWcBKu96Zopiw8c8PgsjP
tz4sALYiGJDjtKlIVEhAW4g=
-----END PRIVATE KEY-----";

pub const EC_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg0M6wmU8S/YYaz/G6
lRHeKAcYPsD82Z50HvhIN3tqRTyhRANCAAQS5PiBgG+ikjVMswNvsnJTLEPx3AX9
eFWBDcrvWJ94OzSCmTsc345kYQpYvMT6iDBj4PzJR3syDxUFtWRuXNX7
-----END PRIVATE KEY-----";

/// The public keys: `rsa-test` (RS256) and `ec-test` (ES256).
pub const JWKS: &str = r#"{"keys": [{"kty": "RSA", "kid": "rsa-test", "use": "sig", "alg": "RS256", "n": "vduOhq1f4B5utxympF4XOMbmqCfmPHDeNVbOI9-_Pvol2p7LWPTfQBkw7n-qliGruMrMcEzD8nlELXbJFRUk9IppyWBmS583iM3nzEUNGeqdpOLfOCH_fePN9C9JlWI2Kg9jsXt79QsAqSOreu2O31Yr6gDmmAkcY8uMpH2I0i8wfGYyVT1Zu4tR_G4GNy0Y2RMXy105IK9O42btaTdQIDc-tmvQsAZ3XhhZDVkc46HgOoy3R2CSHVrfS128hIFt7Jq3RazHJx9r7a0P9DlHAr2p1y4o2eo5spPD1xXjRQnXwgdiQktahzcdGFViSH_VO1Q6ZfL3g8ixZEIlUJq2ow", "e": "AQAB"}, {"kty": "EC", "kid": "ec-test", "use": "sig", "alg": "ES256", "crv": "P-256", "x": "EuT4gYBvopI1TLMDb7JyUyxD8dwF_XhVgQ3K71ifeDs", "y": "NIKZOxzfjmRhCli8xPqIMGPg_MlHezIPFQW1ZG5c1fs"}]}"#;

/// A token signed with the RSA key (`RS256`) or the EC key (any other algorithm), with `kid`.
pub fn provider_token(algorithm: Algorithm, kid: &str, claims: &serde_json::Value) -> String {
    let key = match algorithm {
        Algorithm::RS256 => EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes()),
        _ => EncodingKey::from_ec_pem(EC_PRIVATE.as_bytes()),
    }
    .expect("the test keys parse");
    let mut header = Header::new(algorithm);
    header.kid = Some(kid.to_owned());
    encode(&header, claims, &key).expect("the test keys sign")
}
