/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Detached CMS (PKCS#7) signatures, DER, over the exact bytes of a document
 * (CMS_BINARY: no MIME canonicalisation). The signer must chain to a CA of
 * the configured bundle and carry the code-signing extended key usage: a TLS
 * server or S/MIME certificate from the same CA cannot sign a manifest. */

#include <stddef.h>
#include <stdint.h>

#define FLEET_SIGNATURE_MAX (64u * 1024u)

/* 0 if sig is a valid signature of data by a code-signing certificate that
 * chains to ca_file (PEM bundle), all certificates valid at now_usec.
 * -EKEYREJECTED with "signature does not verify: …" otherwise; -EFBIG if sig
 * exceeds FLEET_SIGNATURE_MAX; -errno if ca_file cannot be read. */
int fleet_signature_verify(const void *data, size_t size, const void *sig, size_t sig_size, const char *ca_file,
                           uint64_t now_usec, char *reason, size_t reason_size);

/* Signs data with key_file/cert_file (PEM), adding the PEM certificates of
 * chain_file (may be NULL) for verifiers. *ret_sig is malloc()ed DER. Refuses
 * a certificate without the code-signing EKU (the desktops would). */
int fleet_signature_sign(const void *data, size_t size, const char *key_file, const char *cert_file, const char *chain_file,
                         void **ret_sig, size_t *ret_sig_size, char *reason, size_t reason_size);
