/* sha256.c — thin wrapper over OpenSSL's EVP digest interface. */
#include "util/sha256.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

struct ts_sha256 {
    EVP_MD_CTX *ctx;
};

ts_sha256 *ts_sha256_new(void) {
    ts_sha256 *h = (ts_sha256 *)OPENSSL_zalloc(sizeof *h);
    if (!h) return NULL;
    h->ctx = EVP_MD_CTX_new();
    if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(h->ctx);
        OPENSSL_free(h);
        return NULL;
    }
    return h;
}

void ts_sha256_update(ts_sha256 *h, const void *data, size_t n) {
    if (n) EVP_DigestUpdate(h->ctx, data, n);
}

void ts_sha256_finish_hex(ts_sha256 *h, char hex[65]) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(h->ctx, md, &len);
    for (unsigned int i = 0; i < len && i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    hex[64] = '\0';
    EVP_MD_CTX_free(h->ctx);
    OPENSSL_free(h);
}

void ts_sha256_hex(const void *data, size_t n, char hex[65]) {
    ts_sha256 *h = ts_sha256_new();
    ts_sha256_update(h, data, n);
    ts_sha256_finish_hex(h, hex);
}

ts_status ts_sha256_file_hex(const char *path, char hex[65]) {
    FILE *f = fopen(path, "rb");
    if (!f) return ts_set_error("%s: cannot open: %s", path, strerror(errno));
    ts_sha256 *h = ts_sha256_new();
    unsigned char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        ts_sha256_update(h, buf, n);
    int bad = ferror(f);
    fclose(f);
    ts_sha256_finish_hex(h, hex);
    if (bad) return ts_set_error("%s: read error", path);
    return TS_OK;
}
