/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Pod files (stage0/podfile.c): what a good file becomes (ExecStart='s words,
 * the unit), every error of a bad one as FILE:LINE: reason, the quoting
 * systemd reads back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "stage0/podfile.h"
#include "util.h"

static const char good[] = "# a pod\n"
                           "[Unit]\n"
                           "After=network-online.target\n"
                           "\n"
                           "[Pod]\n"
                           "Dir=/srv/podrun\n"
                           "InsecureOptions=image\n"
                           "Volume = data,kind=empty\n"
                           "Network=none\n"
                           "PrivateUsers=false\n"
                           "Image=/srv/images/web.aci\n"
                           "Name=web\n"
                           "Exec=/bin/sh -c \"echo \\\"hi\\\" $HOME 100%\" 'a b'\n"
                           "Environment=A=b c\n"
                           "ReadOnlyRootfs=true\n"
                           "Image=podrun.test/busybox\n"
                           "Stage1=nspawn\n"
                           "\n"
                           "[Service]\n"
                           "Restart=on-failure\n"
                           "RestartSec=1\n"
                           "[Install]\n"
                           "WantedBy=multi-user.target default.target\n";

static void test_good(void **state)
{
  _cleanup_podfile_ struct podfile *f = NULL;
  _cleanup_strv_ char **errors = NULL;
  assert_int_equal(podfile_parse("/etc/podrun/pods/web.pod", good, &f, &errors), 0);
  assert_null(errors);
  assert_string_equal(f->name, "web");
  assert_int_equal(f->n_apps, 2);

  static const char *const want[] = { "/usr/bin/podrun", "--dir=/srv/podrun", "--insecure-options=image", "run",
                                      "--volume=data,kind=empty", "--net=none", "--stage1=nspawn",
                                      "/srv/images/web.aci", "--name=web", "--exec=/bin/sh", "--set-env=A=b c",
                                      "--readonly-rootfs", "--", "-c", "echo \"hi\" $HOME 100%", "a b", "---",
                                      "podrun.test/busybox", NULL };
  _cleanup_strv_ char **argv = podfile_argv(f, "/usr/bin/podrun");
  for (size_t i = 0; want[i] || argv[i]; i++)
    {
      assert_non_null(want[i]);
      assert_non_null(argv[i]);
      assert_string_equal(argv[i], want[i]);
    }

  _cleanup_free_ char *unit = podfile_unit(f, "/usr/bin/podrun");
  assert_non_null(strstr(unit, "[Unit]\nDescription=podrun pod web\nSourcePath=/etc/podrun/pods/web.pod\n"
                               "After=network-online.target\n"));
  assert_non_null(strstr(unit, "[Service]\nType=notify\nNotifyAccess=main\nExecStart=/usr/bin/podrun "
                               "--dir=/srv/podrun --insecure-options=image run"));
  assert_non_null(strstr(unit, " \"--set-env=A=b c\" --readonly-rootfs -- -c \"echo \\\"hi\\\" $$HOME 100%%\" "
                               "\"a b\" --- podrun.test/busybox\nRestart=on-failure\nRestartSec=1\n"));
  assert_non_null(strstr(unit, "\n[Install]\nWantedBy=multi-user.target default.target\n"));

  _cleanup_strv_ char **wants = podfile_install_targets(f, true), **requires = podfile_install_targets(f, false);
  assert_int_equal(strv_length(wants), 2);
  assert_string_equal(wants[0], "multi-user.target");
  assert_string_equal(wants[1], "default.target");
  assert_null(requires);
}

static void test_fly_is_exec(void **state)
{
  _cleanup_podfile_ struct podfile *f = NULL;
  _cleanup_strv_ char **errors = NULL;
  assert_int_equal(podfile_parse("a.pod", "[Pod]\nStage1=fly\nImage=x\n", &f, &errors), 0);
  _cleanup_free_ char *unit = podfile_unit(f, "/p");
  assert_non_null(strstr(unit, "\n[Service]\nType=exec\nExecStart=/p run --stage1=fly x\n"));
  assert_null(strstr(unit, "notify"));
}

static void test_description_kept(void **state)
{
  _cleanup_podfile_ struct podfile *f = NULL;
  _cleanup_strv_ char **errors = NULL;
  assert_int_equal(podfile_parse("a.pod", "[Unit]\nDescription=mine\n[Pod]\nImage=x\n", &f, &errors), 0);
  _cleanup_free_ char *unit = podfile_unit(f, "/p");
  assert_non_null(strstr(unit, "[Unit]\nSourcePath=a.pod\nDescription=mine\n"));
  assert_null(strstr(unit, "podrun pod a"));
  assert_null(strstr(unit, "[Install]"));
}

/* Each bad file, and its errors: all of them, in order. */
static void test_errors(void **state)
{
  static const struct
  {
    const char *path, *text;
    const char *errors[5];
  } bad[] = {
    { "p.pod", "", { "p.pod: no [Pod] section" } },
    { "p.pod", "[Pod]\n", { "p.pod: no Image=: a pod needs an app" } },
    { "p.pod", "Image=x\n[Pod]\nImage=x\n", { "p.pod:1: Image= outside a section" } },
    { "p.pod", "[Pod]\nName=web\nImage=x\n", { "p.pod:2: Name= before any Image=: an app's key belongs to the Image= above it" } },
    { "p.pod", "[Pod]\nImage=x\nFoo=1\nImage=\nExec=sh -c x\nExec=/bin/sh \"x\n",
      { "p.pod:3: [Pod] has no key \"Foo\"", "p.pod:4: Image= is empty",
        "p.pod:5: Exec=sh -c x: the command must be an absolute path", "p.pod:6: Exec=/bin/sh \\\"x: a quote is not closed" } },
    { "p.pod", "[Pod]\nImage=x\nName=Web_1\nReadOnlyRootfs=maybe\nDir=rel\nEnvironment=novalue\nInsecureOptions=bogus\n",
      { "p.pod:3: Name=Web_1: not a name (lowercase letters, digits and dashes)",
        "p.pod:4: ReadOnlyRootfs=maybe: not a boolean (true or false)", "p.pod:5: Dir=rel: not an absolute path",
        "p.pod:6: Environment=novalue: expected NAME=VALUE", "p.pod:7: InsecureOptions=bogus: unknown option \"bogus\" (valid: none, image, tls, ondisk, http, "
        "pubkey, capabilities, paths, seccomp, all)" } },
    { "p.pod", "[Pod]\nImage=x\n[Service]\nType=simple\nExecStart=/bin/true\nRestart=sometimes\n",
      { "p.pod:4: [Service] Type= is podrun's to set", "p.pod:5: [Service] ExecStart= is podrun's to set",
        "p.pod:6: Restart=sometimes: not a restart policy (no, on-success, on-failure, on-abnormal, on-watchdog, "
        "on-abort, always)" } },
    { "p.pod", "[Pod]\nImage=x\n[Install]\nWantedBy=../../etc/passwd\nRequiredBy=multi-user\n",
      { "p.pod:4: WantedBy=: \"../../etc/passwd\" is not a unit name", "p.pod:5: RequiredBy=: \"multi-user\" is not a unit name" } },
    { "p.pod", "[Pod]\nImage=x\n[Weird]\nA=b\nno equals\n= value\n",
      { "p.pod:3: unknown section \"[Weird]\" (a pod file has [Unit], [Pod], [Service] and [Install])",
        "p.pod:4: A= outside a section", "p.pod:5: expected KEY=VALUE or a [Section], not \"no equals\"",
        "p.pod:6: \"\" is not a key" } },
    { "p.pod", "[Pod]\nImage=x\x1b[2J\n", { "p.pod:2: a control character in \"Image=x\\x1b[2J\"", "p.pod: no Image=: a pod needs an app" } },
    { "/etc/podrun/pods/a b.pod", "[Pod]\nImage=x\n",
      { "/etc/podrun/pods/a b.pod: the file's name is not NAME.pod with NAME a unit name (letters, digits, \":-_.\\\")" } },
    { "web.conf", "[Pod]\nImage=x\n",
      { "web.conf: the file's name is not NAME.pod with NAME a unit name (letters, digits, \":-_.\\\")" } },
  };
  for (size_t i = 0; i < ELEMENTSOF(bad); i++)
    {
      _cleanup_podfile_ struct podfile *f = NULL;
      _cleanup_strv_ char **errors = NULL;
      assert_int_equal(podfile_parse(bad[i].path, bad[i].text, &f, &errors), -1);
      assert_null(f);
      size_t n = 0;
      for (; n < ELEMENTSOF(bad[i].errors) && bad[i].errors[n]; n++)
        {
          assert_non_null(errors[n]);
          assert_string_equal(errors[n], bad[i].errors[n]);
        }
      assert_int_equal(strv_length(errors), n);
    }
}

static void test_quote(void **state)
{
  static const struct
  {
    const char *in, *out;
  } q[] = {
    { "/usr/bin/podrun", "/usr/bin/podrun" },
    { "--volume=data,kind=host,source=/srv", "--volume=data,kind=host,source=/srv" },
    { "a b", "\"a b\"" },
    { "", "\"\"" },
    { "100%", "\"100%%\"" },
    { "$HOME", "\"$$HOME\"" },
    { "say \"hi\"\\", "\"say \\\"hi\\\"\\\\\"" },
    { "it's", "\"it's\"" },
  };
  for (size_t i = 0; i < ELEMENTSOF(q); i++)
    {
      _cleanup_free_ char *got = podfile_quote(q[i].in);
      assert_string_equal(got, q[i].out);
    }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_good),
    cmocka_unit_test(test_description_kept),
    cmocka_unit_test(test_fly_is_exec),
    cmocka_unit_test(test_errors),
    cmocka_unit_test(test_quote),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
