/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* libarchive, libcrypto, libcurl, gpgme and libyaml, loaded on first use rather than linked:
 * only import (hashing), render, export and fetching need them, and linking
 * them costs every podrun command ~4.5 ms of library loading (Debian's
 * libarchive pulls in libxml2, ICU and libstdc++). systemd loads its optional
 * libraries the same way. Call dl_load_archive() / dl_load_crypto() /
 * dl_load_curl() / dl_load_gpgme() / dl_load_yaml() first, then use the sym_* pointers. */
#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>
/* curl's gcc type checks turn curl_easy_setopt into a macro of the real name */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
#include <gpgme.h>
#include <yaml.h>

#include "error.h"

#define DL_ARCHIVE_SYMBOLS(X) \
  X(archive_entry_atime) \
  X(archive_entry_atime_is_set) \
  X(archive_entry_atime_nsec) \
  X(archive_entry_clear) \
  X(archive_entry_filetype) \
  X(archive_entry_gid) \
  X(archive_entry_free) \
  X(archive_entry_hardlink) \
  X(archive_entry_linkify) \
  X(archive_entry_linkresolver_free) \
  X(archive_entry_linkresolver_new) \
  X(archive_entry_linkresolver_set_strategy) \
  X(archive_entry_mode) \
  X(archive_entry_mtime) \
  X(archive_entry_mtime_is_set) \
  X(archive_entry_mtime_nsec) \
  X(archive_entry_new) \
  X(archive_entry_pathname) \
  X(archive_entry_rdev) \
  X(archive_entry_set_filetype) \
  X(archive_entry_set_hardlink) \
  X(archive_entry_set_mtime) \
  X(archive_entry_set_pathname) \
  X(archive_entry_set_perm) \
  X(archive_entry_set_size) \
  X(archive_entry_size) \
  X(archive_entry_size_is_set) \
  X(archive_entry_symlink) \
  X(archive_entry_uid) \
  X(archive_entry_xattr_add_entry) \
  X(archive_entry_xattr_clear) \
  X(archive_entry_xattr_count) \
  X(archive_entry_xattr_next) \
  X(archive_entry_xattr_reset) \
  X(archive_error_string) \
  X(archive_format) \
  X(archive_read_close) \
  X(archive_read_data) \
  X(archive_read_data_block) \
  X(archive_read_disk_can_descend) \
  X(archive_read_disk_descend) \
  X(archive_read_disk_new) \
  X(archive_read_disk_open) \
  X(archive_read_disk_set_behavior) \
  X(archive_read_disk_set_symlink_hybrid) \
  X(archive_read_free) \
  X(archive_read_new) \
  X(archive_read_next_header) \
  X(archive_read_next_header2) \
  X(archive_read_open) \
  X(archive_read_open_fd) \
  X(archive_read_open_memory) \
  X(archive_read_support_filter_all) \
  X(archive_read_support_format_gnutar) \
  X(archive_read_support_format_raw) \
  X(archive_read_support_format_tar) \
  X(archive_write_close) \
  X(archive_write_data) \
  X(archive_write_data_block) \
  X(archive_write_disk_new) \
  X(archive_write_disk_set_options) \
  X(archive_write_finish_entry) \
  X(archive_write_free) \
  X(archive_write_header) \
  X(archive_write_new) \
  X(archive_write_open_fd) \
  X(archive_write_set_bytes_in_last_block) \
  X(archive_write_set_format_pax_restricted)

#define DL_CRYPTO_SYMBOLS(X) \
  X(EVP_MD_CTX_new) \
  X(EVP_MD_CTX_free) \
  X(EVP_sha256) \
  X(EVP_sha512) \
  X(EVP_DigestInit_ex) \
  X(EVP_DigestUpdate) \
  X(EVP_DigestFinal_ex) \
  X(EVP_DecodeBlock)

#define DL_CURL_SYMBOLS(X) \
  X(curl_global_init) \
  X(curl_easy_init) \
  X(curl_easy_cleanup) \
  X(curl_easy_reset) \
  X(curl_easy_setopt) \
  X(curl_easy_getinfo) \
  X(curl_easy_perform) \
  X(curl_easy_strerror) \
  X(curl_easy_escape) \
  X(curl_free) \
  X(curl_slist_append) \
  X(curl_slist_free_all) \
  X(curl_multi_init) \
  X(curl_multi_cleanup) \
  X(curl_multi_add_handle) \
  X(curl_multi_remove_handle) \
  X(curl_multi_perform) \
  X(curl_multi_poll) \
  X(curl_multi_info_read) \
  X(curl_url) \
  X(curl_url_cleanup) \
  X(curl_url_set) \
  X(curl_url_get)

/* gpgme (trust.c, trust-sign.c): only fetching a signed image and `podrun trust` need it */
#define DL_GPGME_SYMBOLS(X) \
  X(gpgme_check_version) \
  X(gpgme_new) \
  X(gpgme_release) \
  X(gpgme_set_protocol) \
  X(gpgme_ctx_set_engine_info) \
  X(gpgme_set_keylist_mode) \
  X(gpgme_data_new_from_mem) \
  X(gpgme_data_new_from_fd) \
  X(gpgme_data_new_from_cbs) \
  X(gpgme_data_release) \
  X(gpgme_op_import) \
  X(gpgme_op_import_result) \
  X(gpgme_op_verify) \
  X(gpgme_op_verify_result) \
  X(gpgme_op_keylist_start) \
  X(gpgme_op_keylist_next) \
  X(gpgme_op_keylist_end) \
  X(gpgme_key_unref) \
  X(gpgme_strerror)

/* libyaml (lookaside.c): only a docker:// image's signature check reads registries.d */
#define DL_YAML_SYMBOLS(X) \
  X(yaml_parser_initialize) \
  X(yaml_parser_set_input_string) \
  X(yaml_parser_load) \
  X(yaml_parser_delete) \
  X(yaml_document_get_node) \
  X(yaml_document_get_root_node) \
  X(yaml_document_delete)

#define DL_DECLARE(f) extern typeof(f) *sym_##f;
DL_ARCHIVE_SYMBOLS(DL_DECLARE)
DL_CRYPTO_SYMBOLS(DL_DECLARE)
DL_CURL_SYMBOLS(DL_DECLARE)
DL_GPGME_SYMBOLS(DL_DECLARE)
DL_YAML_SYMBOLS(DL_DECLARE)
#undef DL_DECLARE

/* Load the library and every symbol of its list, once; later calls are free. */
int dl_load_archive(podrun_error_t *err);
int dl_load_crypto(podrun_error_t *err);
int dl_load_curl(podrun_error_t *err);
int dl_load_gpgme(podrun_error_t *err);
int dl_load_yaml(podrun_error_t *err);
