/* tls_ctx.c - TLS contexts (see tls.h): what every session of a server or of a client shares, and
 * new sessions set up from them. The I/O of a session is in tls.c. */
#include "net/tls.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "proto/alloc_internal.h"

#ifdef WSK_WITH_TLS
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

struct sni_entry {
  char *hostname;
  SSL_CTX *ctx;
};

struct wsk__tls_ctx {
  SSL_CTX *ctx;
  struct sni_entry *sni; /* server: the extra certificates, in the order given */
  size_t nsni;
  SSL_SESSION *session;  /* client: the newest resumable session */
};

/* OpenSSL's reason for the first error in this thread's queue (the cause; later ones only say
 * which layer passed it on), then the queue is cleared. */
static int ctx_error(int code, char *errbuf, size_t errlen, const char *what, const char *file) {
  unsigned long e = ERR_peek_error();
  const char *r = !e ? NULL : ERR_SYSTEM_ERROR(e) ? strerror(ERR_GET_REASON(e))
                                                  : ERR_reason_error_string(e);
  int lib = ERR_GET_LIB(e);
  const char *hint = lib == ERR_LIB_PEM || lib == ERR_LIB_OSSL_DECODER
                         ? " (the file holds no PEM block of that kind)" : "";
  if (errbuf) snprintf(errbuf, errlen, "%s %s: %s%s", what, file, r ? r : "cannot be loaded", hint);
  ERR_clear_error();
  return code;
}

/* What both sides want: TLS 1.2 and 1.3 only, no renegotiation, writes that may be retried from a
 * moved buffer and may complete record by record, buffers released while idle, and a peer that
 * closes TCP without close_notify is an end of input like any other (the WebSocket closing
 * handshake, or HTTP framing, says whether anything was lost). */
static SSL_CTX *new_ctx(const SSL_METHOD *method) {
  SSL_CTX *ctx = SSL_CTX_new(method);
  if (!ctx) return NULL;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_read_ahead(ctx, 1); /* one read(2) for many records, not two per record */
  /* No SSL_OP_ENABLE_KTLS: OpenSSL sends kTLS control records (alerts, close_notify) through its
   * own socket BIO's write, which tls_bio.c replaces; ours would send them as data. */
  return ctx;
}

static const unsigned char alpn_http11[] = "\x08http/1.1";

static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned inlen, void *arg) {
  unsigned char *sel = NULL;
  if (SSL_select_next_proto(&sel, outlen, alpn_http11, sizeof alpn_http11 - 1, in, inlen) !=
      OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_ALERT_FATAL; /* no_application_protocol: we speak HTTP/1.1 only */
  *out = sel;
  return SSL_TLSEXT_ERR_OK;
}

/* A server context with one certificate. */
static SSL_CTX *server_cert_ctx(const char *cert, const char *key, char *errbuf, size_t errlen,
                                int *code) {
  SSL_CTX *ctx = new_ctx(TLS_server_method());
  *code = WSK_ENOMEM;
  if (!ctx) {
    if (errbuf) snprintf(errbuf, errlen, "out of memory for the TLS context");
    return NULL;
  }
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF); /* resumption by tickets only */
  SSL_CTX_set_num_tickets(ctx, 1);
  SSL_CTX_set_alpn_select_cb(ctx, select_alpn, NULL);
  /* TLS 1.3: AES-128-GCM (the suite every TLS 1.3 peer has) before AES-256-GCM, which OpenSSL's
   * clients list first and which costs ~25% more per byte for no security that matters here;
   * ChaCha20 for a client that lists it first (one without AES instructions). */
  SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_PRIORITIZE_CHACHA);
  if (SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:"
                                    "TLS_AES_256_GCM_SHA384") != 1) {
    *code = ctx_error(WSK_ENOMEM, errbuf, errlen, "TLS cipher suites", "");
  } else if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
    *code = ctx_error(WSK_ETLS, errbuf, errlen, "TLS certificate", cert);
  } else if (SSL_CTX_use_PrivateKey_file(ctx, key ? key : cert, SSL_FILETYPE_PEM) != 1) {
    /* (checked against the certificate loaded just before) */
    int mismatch = ERR_GET_REASON(ERR_peek_error()) == X509_R_KEY_VALUES_MISMATCH;
    *code = ctx_error(WSK_ETLS, errbuf, errlen, "TLS private key", key ? key : cert);
    if (mismatch && errbuf)
      snprintf(errbuf, errlen, "TLS private key %s does not belong to the certificate %s",
               key ? key : cert, cert);
  } else {
    return ctx;
  }
  SSL_CTX_free(ctx);
  return NULL;
}

/* "*.example.com" matches "a.example.com" (one label), anything else only itself. */
static int name_matches(const char *pattern, const char *name) {
  if (pattern[0] == '*' && pattern[1] == '.') {
    const char *dot = strchr(name, '.');
    return dot && dot != name && strcasecmp(dot, pattern + 1) == 0;
  }
  return strcasecmp(pattern, name) == 0;
}

static int select_cert(SSL *ssl, int *alert, void *arg) {
  const struct wsk__tls_ctx *x = arg;
  const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (!name) return SSL_TLSEXT_ERR_NOACK;
  for (size_t i = 0; i < x->nsni; i++) {
    if (name_matches(x->sni[i].hostname, name)) {
      SSL_set_SSL_CTX(ssl, x->sni[i].ctx);
      return SSL_TLSEXT_ERR_OK;
    }
  }
  return SSL_TLSEXT_ERR_NOACK; /* the default certificate */
}

int wsk__tls_server_ctx(const char *cert, const char *key, const struct wsk_tls_cert *sni,
                       struct wsk__tls_ctx **out, char *errbuf, size_t errlen) {
  *out = NULL;
  size_t n = 0;
  while (sni && sni[n].hostname) {
    if (!sni[n].cert || !*sni[n].hostname) {
      if (errbuf) snprintf(errbuf, errlen, "tls_sni entry %zu needs a hostname and a cert", n);
      return WSK_EINVAL;
    }
    n++;
  }
  struct wsk__tls_ctx *x = wsk__calloc(1, sizeof *x);
  if (!x || (n && !(x->sni = wsk__calloc(n, sizeof *x->sni)))) {
    wsk__free(x);
    if (errbuf) snprintf(errbuf, errlen, "out of memory for the TLS context");
    return WSK_ENOMEM;
  }
  int code = 0;
  if (!(x->ctx = server_cert_ctx(cert, key, errbuf, errlen, &code))) goto fail;
  for (; x->nsni < n; x->nsni++) {
    struct sni_entry *e = &x->sni[x->nsni];
    if (!(e->ctx = server_cert_ctx(sni[x->nsni].cert, sni[x->nsni].key, errbuf, errlen, &code)))
      goto fail;
    if (!(e->hostname = wsk__strdup(sni[x->nsni].hostname))) {
      SSL_CTX_free(e->ctx);
      code = WSK_ENOMEM;
      if (errbuf) snprintf(errbuf, errlen, "out of memory for the TLS context");
      goto fail;
    }
  }
  if (n) {
    SSL_CTX_set_tlsext_servername_callback(x->ctx, select_cert);
    SSL_CTX_set_tlsext_servername_arg(x->ctx, x);
  }
  *out = x;
  return 0;
fail:
  wsk__tls_ctx_free(x);
  return code;
}

/* A new session ticket (TLS 1.3 sends them after the handshake): keep the newest for the next
 * connection of this client. Returning 1 keeps the reference OpenSSL gave us. */
static int keep_session(SSL *ssl, SSL_SESSION *sess) {
  struct wsk__tls_ctx *x = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
  if (x->session) SSL_SESSION_free(x->session);
  x->session = sess;
  return 1;
}

int wsk__tls_client_ctx(const char *ca_file, const char *ca_dir, int insecure,
                       struct wsk__tls_ctx **out, char *errbuf, size_t errlen) {
  *out = NULL;
  struct wsk__tls_ctx *x = wsk__calloc(1, sizeof *x);
  if (!x || !(x->ctx = new_ctx(TLS_client_method()))) {
    wsk__free(x);
    if (errbuf) snprintf(errbuf, errlen, "out of memory for the TLS context");
    return WSK_ENOMEM;
  }
  SSL_CTX_set_app_data(x->ctx, x);
  SSL_CTX_set_session_cache_mode(x->ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(x->ctx, keep_session);
  int code = 0;
  if (SSL_CTX_set_alpn_protos(x->ctx, alpn_http11, sizeof alpn_http11 - 1) != 0) {
    code = WSK_ENOMEM;
    if (errbuf) snprintf(errbuf, errlen, "out of memory for the TLS context");
  } else if (insecure) {
    SSL_CTX_set_verify(x->ctx, SSL_VERIFY_NONE, NULL);
  } else {
    SSL_CTX_set_verify(x->ctx, SSL_VERIFY_PEER, NULL);
    if (ca_file || ca_dir) {
      if (SSL_CTX_load_verify_locations(x->ctx, ca_file, ca_dir) != 1)
        code = ctx_error(WSK_ETLS, errbuf, errlen, ca_file ? "TLS CA file" : "TLS CA directory",
                         ca_file ? ca_file : ca_dir);
    } else if (SSL_CTX_set_default_verify_paths(x->ctx) != 1) {
      code = ctx_error(WSK_ETLS, errbuf, errlen, "the system's CA store", "");
    }
  }
  if (code) {
    wsk__tls_ctx_free(x);
    return code;
  }
  *out = x;
  return 0;
}

void wsk__tls_ctx_free(struct wsk__tls_ctx *x) {
  if (!x) return;
  for (size_t i = 0; i < x->nsni; i++) {
    SSL_CTX_free(x->sni[i].ctx);
    wsk__free(x->sni[i].hostname);
  }
  wsk__free(x->sni);
  if (x->session) SSL_SESSION_free(x->session);
  SSL_CTX_free(x->ctx); /* sessions still open keep their own reference */
  wsk__free(x);
}

void wsk__tls_ctx_forget_session(struct wsk__tls_ctx *x) {
  if (x->session) SSL_SESSION_free(x->session);
  x->session = NULL;
}

/* A client checks the certificate against host: an IP address (without an IPv6 zone) or a DNS
 * name, which also goes out as SNI. Returns 1, or 0 when out of memory. */
static int expect_host(SSL *ssl, const char *host) {
  char ip[INET6_ADDRSTRLEN];
  size_t len = strcspn(host, "%");
  unsigned char bin[16];
  if (len < sizeof ip) {
    memcpy(ip, host, len);
    ip[len] = '\0';
    if (inet_pton(AF_INET, ip, bin) == 1 || inet_pton(AF_INET6, ip, bin) == 1)
      return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), ip) == 1;
  }
  SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  return SSL_set_tlsext_host_name(ssl, host) == 1 && SSL_set1_host(ssl, host) == 1;
}

struct wsk__tls *wsk__tls_new(struct wsk__tls_ctx *x, int fd, const char *host) {
  struct wsk__tls *t = wsk__calloc(1, sizeof *t);
  SSL *ssl = t ? SSL_new(x->ctx) : NULL;
  BIO *bio = ssl ? wsk__tls_bio_new(fd) : NULL;
  if (!bio) goto fail;
  SSL_set_bio(ssl, bio, bio); /* (one reference, for both directions) */
  if (!host) {
    SSL_set_accept_state(ssl);
  } else {
    SSL_set_connect_state(ssl);
    if (!expect_host(ssl, host)) goto fail;
    if (x->session && SSL_SESSION_is_resumable(x->session)) SSL_set_session(ssl, x->session);
  }
  t->ssl = ssl;
  return t;
fail:
  ERR_clear_error();
  SSL_free(ssl);
  wsk__free(t);
  return NULL;
}

#else /* built without TLS */

static int unsupported(char *errbuf, size_t errlen, const char *what) {
  if (errbuf)
    snprintf(errbuf, errlen, "%s needs TLS, and this wsk was built without it (cmake -DWSK_TLS=ON "
                             "with OpenSSL's libssl to enable it)", what);
  return WSK_EUNSUPPORTED;
}

int wsk__tls_server_ctx(const char *cert, const char *key, const struct wsk_tls_cert *sni,
                       struct wsk__tls_ctx **out, char *errbuf, size_t errlen) {
  *out = NULL;
  return unsupported(errbuf, errlen, "a TLS server (tls_cert)");
}

int wsk__tls_client_ctx(const char *ca_file, const char *ca_dir, int insecure,
                       struct wsk__tls_ctx **out, char *errbuf, size_t errlen) {
  *out = NULL;
  return unsupported(errbuf, errlen, "wss://");
}

void wsk__tls_ctx_free(struct wsk__tls_ctx *x) {}
void wsk__tls_ctx_forget_session(struct wsk__tls_ctx *x) {}
struct wsk__tls *wsk__tls_new(struct wsk__tls_ctx *x, int fd, const char *host) { return NULL; }

#endif
