/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* plugin.h is installed for plugins written in C++ too: it must compile as
 * C++ (no C-only syntax such as array parameters with "static"), and its
 * declarations must have C linkage. Built with -Werror; running it checks
 * the layout rule the loader relies on. */
#include <avmigrate/plugin.h>

#include <cstddef>
#include <cstdio>
#include <type_traits>

/* The declaration, not a call or an address: nothing links a host here. */
static_assert(std::is_same<decltype(&avm_eicar), void (*)(char *)>::value, "avm_eicar(char *)");

static int detect(AvmHost *, AvmDetection *ret) {
        ret->installed = false;
        return 0;
}

static const AvmConfigKey keys[] = {
        { "Tool", AVM_CONFIG_PATH, "/usr/bin/tool", 0, 0, nullptr },
        { nullptr, AVM_CONFIG_STRING, nullptr, 0, 0, nullptr },
};

int main() {
        AvmPlugin p = {};
        AvmDetection d = {};

        p.api_version = AVM_PLUGIN_API_VERSION;
        p.struct_size = sizeof(AvmPlugin);
        p.id = "cxx";
        p.detect = detect;
        p.config_keys = keys;
        if (p.detect(nullptr, &d) != 0 || p.config_keys[0].name == nullptr ||
            AVM_PLUGIN_STRUCT_SIZE_MIN_V2 >= sizeof(AvmPlugin) || offsetof(AvmPlugin, api_version) != 0) {
                std::puts("plugin.h layout not as documented");
                return 1;
        }
        std::puts("plugin.h compiles as C++");
        return 0;
}
