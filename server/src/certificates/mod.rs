//! Certificates as people bring them: X.509 certificates read with a real parser (`x509`), and
//! certificate files and keystores (DER, PEM, JKS, PKCS#12) inspected in a child process with
//! limits (`keystore`). The repository that stores them is `db::certificates`.

pub mod keystore;
pub mod x509;
