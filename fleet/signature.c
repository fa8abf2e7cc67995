/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "reason.h"
#include "signature.h"
#include "util.h"

#define PEM_FILE_MAX (1024u * 1024u) /* a CA bundle, a key, a chain: far below */

static void bio_freep(BIO **b) {
        BIO_free(*b);
}
static void cms_freep(CMS_ContentInfo **c) {
        CMS_ContentInfo_free(*c);
}
static void store_freep(X509_STORE **s) {
        X509_STORE_free(*s);
}
static void x509_freep(X509 **x) {
        X509_free(*x);
}
static void pkey_freep(EVP_PKEY **k) {
        EVP_PKEY_free(*k);
}
static void x509_stack_freep(STACK_OF(X509) * *s) {
        sk_X509_pop_free(*s, X509_free);
}
static void x509_stack_shallow_freep(STACK_OF(X509) * *s) {
        sk_X509_free(*s);
}
static void info_stack_freep(STACK_OF(X509_INFO) * *s) {
        sk_X509_INFO_pop_free(*s, X509_INFO_free);
}

/* OpenSSL's first queued error is the root cause ("certificate verify
 * error: …: unable to get local issuer certificate"); the queue is emptied. */
static const char *openssl_error(char *buf, size_t size) {
        const char *data = NULL;
        unsigned long e;
        int flags = 0;

        e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags);
        if (data && (flags & ERR_TXT_STRING) && strncmp(data, "Verify error:", 13) == 0)
                for (data += 13; *data == ' ';) /* the reason already says "certificate verify error" */
                        data++;
        if (e == 0)
                snprintf(buf, size, "unknown error");
        else
                snprintf(buf, size, "%s%s%s", ERR_reason_error_string(e) ?: "error",
                         data && (flags & ERR_TXT_STRING) && *data ? ": " : "", data && (flags & ERR_TXT_STRING) ? data : "");
        ERR_clear_error();
        return buf;
}

/* Reads a PEM file through our bounded, O_CLOEXEC reader into a memory BIO. */
static int pem_file_bio(const char *path, BIO **ret, char *reason, size_t reason_size) {
        _cleanup_free_ char *buf = NULL;
        size_t n;
        BIO *b;
        int r;

        r = read_file_bounded(path, PEM_FILE_MAX, &buf, &n);
        if (r < 0)
                return reason_set(reason, reason_size, r, "cannot read %s: %s", path, strerror(-r));
        b = BIO_new(BIO_s_mem());
        if (!b || BIO_write(b, buf, (int) n) != (int) n) {
                BIO_free(b);
                return -ENOMEM;
        }
        *ret = b;
        return 0;
}

static int load_certs(const char *path, STACK_OF(X509_INFO) * *ret, char *reason, size_t reason_size) {
        _cleanup_(bio_freep) BIO *b = NULL;
        STACK_OF(X509_INFO) * infos;
        char err[256];
        int r;

        r = pem_file_bio(path, &b, reason, reason_size);
        if (r < 0)
                return r;
        infos = PEM_X509_INFO_read_bio(b, NULL, NULL, NULL);
        if (!infos || sk_X509_INFO_num(infos) == 0) {
                sk_X509_INFO_pop_free(infos, X509_INFO_free);
                return reason_set(reason, reason_size, EINVAL, "%s holds no PEM certificate: %s", path,
                                  openssl_error(err, sizeof(err)));
        }
        *ret = infos;
        return 0;
}

static int load_store(const char *ca_file, uint64_t now_usec, X509_STORE **ret, char *reason, size_t reason_size) {
        _cleanup_(info_stack_freep) STACK_OF(X509_INFO) *infos = NULL;
        _cleanup_(store_freep) X509_STORE *store = X509_STORE_new();
        int r;

        if (!store)
                return -ENOMEM;
        r = load_certs(ca_file, &infos, reason, reason_size);
        if (r < 0)
                return r;
        for (int i = 0; i < sk_X509_INFO_num(infos); i++) {
                X509 *x = sk_X509_INFO_value(infos, i)->x509;

                if (x && X509_STORE_add_cert(store, x) != 1)
                        return -ENOMEM;
        }
        /* CMS_verify() defaults to the S/MIME purpose, which refuses a
         * certificate whose EKU lacks emailProtection; OpenSSL 3.0 has no
         * code-signing purpose, so the chain is checked for any purpose and
         * the EKU by signer_is_code_signing(). */
        X509_STORE_set_purpose(store, X509_PURPOSE_ANY);
        X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store), (time_t) (now_usec / USEC_PER_SEC));
        *ret = store;
        store = NULL;
        return 0;
}

static bool signer_is_code_signing(X509 *x) {
        /* An EKU must be present and name code signing: no EKU at all means
         * "any use" to X.509, which is exactly what we refuse here. */
        return (X509_get_extension_flags(x) & EXFLAG_XKUSAGE) && (X509_get_extended_key_usage(x) & XKU_CODE_SIGN);
}

static const char *subject(X509 *x, char *buf, size_t size) {
        X509_NAME_oneline(X509_get_subject_name(x), buf, (int) size);
        return buf;
}

static int check_signers(CMS_ContentInfo *cms, char *reason, size_t reason_size) {
        /* CMS_get0_signers(): a new stack of borrowed certificates. */
        _cleanup_(x509_stack_shallow_freep) STACK_OF(X509) *signers = CMS_get0_signers(cms);
        char name[256];

        if (!signers || sk_X509_num(signers) == 0)
                return reason_set(reason, reason_size, EKEYREJECTED, "signature does not verify: no signer");
        for (int i = 0; i < sk_X509_num(signers); i++)
                if (!signer_is_code_signing(sk_X509_value(signers, i)))
                        return reason_set(reason, reason_size, EKEYREJECTED,
                                          "signature does not verify: signer %s lacks the code-signing extended key usage",
                                          subject(sk_X509_value(signers, i), name, sizeof(name)));
        return 0;
}

int fleet_signature_verify(const void *data, size_t size, const void *sig, size_t sig_size, const char *ca_file,
                           uint64_t now_usec, char *reason, size_t reason_size) {
        _cleanup_(store_freep) X509_STORE *store = NULL;
        _cleanup_(cms_freep) CMS_ContentInfo *cms = NULL;
        _cleanup_(bio_freep) BIO *sig_bio = NULL, *data_bio = NULL;
        char err[256];
        int r;

        if (sig_size > FLEET_SIGNATURE_MAX)
                return reason_set(reason, reason_size, EFBIG, "signature is %zu bytes, more than the %u allowed", sig_size,
                                  FLEET_SIGNATURE_MAX);
        r = load_store(ca_file, now_usec, &store, reason, reason_size);
        if (r < 0)
                return r;
        sig_bio = BIO_new_mem_buf(sig, (int) sig_size);
        data_bio = BIO_new_mem_buf(data, (int) size);
        if (!sig_bio || !data_bio)
                return -ENOMEM;
        cms = d2i_CMS_bio(sig_bio, NULL);
        if (!cms)
                return reason_set(reason, reason_size, EKEYREJECTED, "signature does not verify: not a DER CMS signature: %s",
                                  openssl_error(err, sizeof(err)));
        if (CMS_verify(cms, NULL, store, data_bio, NULL, CMS_BINARY) != 1)
                return reason_set(reason, reason_size, EKEYREJECTED, "signature does not verify: %s",
                                  openssl_error(err, sizeof(err)));
        return check_signers(cms, reason, reason_size);
}

static int load_signer(const char *key_file, const char *cert_file, EVP_PKEY **ret_key, X509 **ret_cert, char *reason,
                       size_t reason_size) {
        _cleanup_(bio_freep) BIO *kb = NULL, *cb = NULL;
        _cleanup_(pkey_freep) EVP_PKEY *key = NULL;
        _cleanup_(x509_freep) X509 *cert = NULL;
        char err[256], name[256];
        int r;

        r = pem_file_bio(key_file, &kb, reason, reason_size);
        if (r < 0)
                return r;
        r = pem_file_bio(cert_file, &cb, reason, reason_size);
        if (r < 0)
                return r;
        key = PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL);
        if (!key)
                return reason_set(reason, reason_size, EINVAL, "%s: no PEM private key: %s", key_file,
                                  openssl_error(err, sizeof(err)));
        cert = PEM_read_bio_X509(cb, NULL, NULL, NULL);
        if (!cert)
                return reason_set(reason, reason_size, EINVAL, "%s: no PEM certificate: %s", cert_file,
                                  openssl_error(err, sizeof(err)));
        if (X509_check_private_key(cert, key) != 1)
                return reason_set(reason, reason_size, EINVAL, "%s does not belong to the key in %s", cert_file, key_file);
        if (!signer_is_code_signing(cert))
                return reason_set(reason, reason_size, EKEYREJECTED,
                                  "%s (%s) lacks the code-signing extended key usage; desktops would refuse its signatures",
                                  cert_file, subject(cert, name, sizeof(name)));
        *ret_key = key;
        *ret_cert = cert;
        key = NULL;
        cert = NULL;
        return 0;
}

static int load_chain(const char *chain_file, STACK_OF(X509) * *ret, char *reason, size_t reason_size) {
        _cleanup_(info_stack_freep) STACK_OF(X509_INFO) *infos = NULL;
        _cleanup_(x509_stack_freep) STACK_OF(X509) *chain = sk_X509_new_null();
        int r;

        if (!chain)
                return -ENOMEM;
        if (chain_file) {
                r = load_certs(chain_file, &infos, reason, reason_size);
                if (r < 0)
                        return r;
                for (int i = 0; i < sk_X509_INFO_num(infos); i++) {
                        X509 *x = sk_X509_INFO_value(infos, i)->x509;

                        if (x && (X509_up_ref(x) != 1 || sk_X509_push(chain, x) <= 0))
                                return -ENOMEM;
                }
        }
        *ret = chain;
        chain = NULL;
        return 0;
}

static int der_out(CMS_ContentInfo *cms, void **ret_sig, size_t *ret_sig_size) {
        unsigned char *der = NULL;
        int n;
        void *copy;

        n = i2d_CMS_ContentInfo(cms, &der);
        if (n <= 0)
                return -ENOMEM;
        copy = malloc((size_t) n);
        if (copy)
                memcpy(copy, der, (size_t) n);
        OPENSSL_free(der);
        if (!copy)
                return -ENOMEM;
        *ret_sig = copy;
        *ret_sig_size = (size_t) n;
        return 0;
}

int fleet_signature_sign(const void *data, size_t size, const char *key_file, const char *cert_file, const char *chain_file,
                         void **ret_sig, size_t *ret_sig_size, char *reason, size_t reason_size) {
        _cleanup_(x509_stack_freep) STACK_OF(X509) *chain = NULL;
        _cleanup_(pkey_freep) EVP_PKEY *key = NULL;
        _cleanup_(x509_freep) X509 *cert = NULL;
        _cleanup_(cms_freep) CMS_ContentInfo *cms = NULL;
        _cleanup_(bio_freep) BIO *data_bio = NULL;
        char err[256];
        int r;

        r = load_signer(key_file, cert_file, &key, &cert, reason, reason_size);
        if (r < 0)
                return r;
        r = load_chain(chain_file, &chain, reason, reason_size);
        if (r < 0)
                return r;
        data_bio = BIO_new_mem_buf(data, (int) size);
        if (!data_bio)
                return -ENOMEM;
        cms = CMS_sign(cert, key, chain, data_bio, CMS_DETACHED | CMS_BINARY);
        if (!cms)
                return reason_set(reason, reason_size, EINVAL, "signing failed: %s", openssl_error(err, sizeof(err)));
        r = der_out(cms, ret_sig, ret_sig_size);
        if (r < 0)
                return r;
        if (*ret_sig_size > FLEET_SIGNATURE_MAX) {
                *ret_sig = mfree(*ret_sig);
                return reason_set(reason, reason_size, EFBIG,
                                  "signature is larger than the %u bytes desktops accept (chain too long?)", FLEET_SIGNATURE_MAX);
        }
        return 0;
}
