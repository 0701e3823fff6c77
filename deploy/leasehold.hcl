# The container's server configuration (Vault's format). Mount a certificate and key at
# /etc/leasehold/tls.crt and tls.key and replace tls_disable with the two lines below it.
storage "sqlite" { path = "/data" }
listener "tcp" {
  address     = "0.0.0.0:8200"
  tls_disable = true
  # tls_cert_file = "/etc/leasehold/tls.crt"
  # tls_key_file  = "/etc/leasehold/tls.key"
}
log_level = "info"
