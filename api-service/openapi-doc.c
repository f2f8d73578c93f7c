/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The OpenAPI document (Documentation/openapi.json), built into the
 * service: /v1/openapi.json always describes the binary that answers,
 * wherever it runs from. The Makefile rebuilds this when the document
 * changes; the path is the top of the tree, make's directory. */
#include "service.h"

__asm__(".section .rodata\n"
        ".global api_openapi_doc\n"
        ".type api_openapi_doc, @object\n"
        "api_openapi_doc:\n"
        ".incbin \"Documentation/openapi.json\"\n"
        ".byte 0\n"
        ".global api_openapi_doc_end\n"
        "api_openapi_doc_end:\n"
        ".previous\n");
