// SPDX-License-Identifier: GPL-2.0

//! KUnit suites in Rust for 6.12, whose `kernel::kunit` has no suite macro yet.
//!
//! Upstream: the `#[kunit_tests(name)]` attribute on a test module (6.15) replaces
//! [`kunit_suite!`](crate::kunit_suite), and `kunit_assert!`/`kunit_assert_eq!` replace
//! [`kassert!`](crate::kassert)/[`kassert_eq!`](crate::kassert_eq).
//!
//! Modelled on upstream 6.15 `rust/kernel/kunit.rs`: test cases are plain `fn()` beside the
//! code they test; [`kunit_suite!`](crate::kunit_suite) puts a `kunit_suite` in the module's
//! `.kunit_test_suites` section, so the suite runs when the module is loaded and its KTAP
//! results appear in the kernel log and in `/sys/kernel/debug/kunit/<suite>/results`.
//!
//! A failed assertion aborts the case the way C KUnit does (the test thread exits), so values
//! owned by the case are leaked rather than dropped; keep test cases free of resources that
//! must be released.

use core::mem::MaybeUninit;
use kernel::{bindings, str::CStr};

/// Builds one `kunit_case` entry.
#[doc(hidden)]
pub const fn case(
    name: &'static CStr,
    module: &'static [u8],
    run: unsafe extern "C" fn(*mut bindings::kunit),
) -> bindings::kunit_case {
    // SAFETY: all-zero is a valid `kunit_case` (the KUnit terminator).
    let mut c: bindings::kunit_case = unsafe { MaybeUninit::zeroed().assume_init() };
    c.run_case = Some(run);
    c.name = name.as_char_ptr();
    c.module_name = module.as_ptr().cast_mut();
    c
}

/// The zeroed entry that ends a case array.
#[doc(hidden)]
pub const fn case_end() -> bindings::kunit_case {
    // SAFETY: all-zero is a valid `kunit_case`.
    unsafe { MaybeUninit::zeroed().assume_init() }
}

/// Builds a `kunit_suite` over the zero-terminated `cases`, named `name`, or
/// `<module>_<name>` when `module` (a NUL-terminated module name) is not empty: a suite of
/// code compiled into several modules needs a name of its own in each.
#[doc(hidden)]
pub const fn suite(
    module: &[u8],
    name: &'static str,
    cases: *mut bindings::kunit_case,
) -> bindings::kunit_suite {
    // SAFETY: all-zero is a valid `kunit_suite`.
    let mut s: bindings::kunit_suite = unsafe { MaybeUninit::zeroed().assume_init() };
    // Leave at least one NUL at the end of the 256-byte name.
    let room = s.name.len() - 1;
    let mut at = 0;
    let mut i = 0;
    while i < module.len() && module[i] != 0 && at < room {
        s.name[at] = module[i];
        at += 1;
        i += 1;
    }
    if at > 0 && at < room {
        s.name[at] = b'_';
        at += 1;
    }
    let bytes = name.as_bytes();
    i = 0;
    while i < bytes.len() && at < room {
        s.name[at] = bytes[i];
        at += 1;
        i += 1;
    }
    s.test_cases = cases;
    s
}

/// Reports a failed assertion to the running test and aborts the case; outside a KUnit
/// thread (or in a kernel without KUnit, whose cases never run) it only logs.
#[doc(hidden)]
pub fn fail(
    file: &'static CStr,
    line: u32,
    condition: &'static CStr,
    detail: core::fmt::Arguments<'_>,
) {
    #[cfg(CONFIG_KUNIT)]
    {
        // SAFETY: reads the current task's KUnit test pointer; null outside a KUnit thread.
        let test = unsafe { bindings::kunit_get_current_test() };
        if !test.is_null() {
            let loc = bindings::kunit_loc {
                file: file.as_char_ptr(),
                line: line as kernel::ffi::c_int,
            };
            let assert = bindings::kunit_unary_assert {
                assert: bindings::kunit_assert {},
                condition: condition.as_char_ptr(),
                expected_true: true,
            };
            // SAFETY: `test` is the running test; `loc` and `assert` outlive the call, which
            // formats the report immediately; `%pA` takes a pointer to `fmt::Arguments`.
            unsafe {
                bindings::__kunit_do_failed_assertion(
                    test,
                    &loc,
                    bindings::kunit_assert_type_KUNIT_ASSERTION,
                    &assert.assert,
                    Some(bindings::kunit_unary_assert_format),
                    c"%pA".as_ptr().cast(),
                    &detail as *const core::fmt::Arguments<'_> as *const kernel::ffi::c_void,
                );
                // Does not return: the case ends here.
                bindings::__kunit_abort(test);
            }
        }
    }
    kernel::pr_err!(
        "{}:{}: assertion failed: {}: {}\n",
        file,
        line,
        condition,
        detail
    );
}

/// Asserts a condition inside a KUnit case; on failure reports it and aborts the case.
#[macro_export]
macro_rules! kassert {
    ($cond:expr $(,)?) => {
        if !$cond {
            $crate::compat::kunit::fail(
                kernel::c_str!(file!()),
                line!(),
                kernel::c_str!(stringify!($cond)),
                format_args!(""),
            );
        }
    };
}

/// Asserts two values are equal inside a KUnit case, printing both on failure.
#[macro_export]
macro_rules! kassert_eq {
    ($left:expr, $right:expr $(,)?) => {
        match (&$left, &$right) {
            (l, r) => {
                if !(*l == *r) {
                    $crate::compat::kunit::fail(
                        kernel::c_str!(file!()),
                        line!(),
                        kernel::c_str!(concat!(stringify!($left), " == ", stringify!($right))),
                        format_args!("left: {:?}, right: {:?}", l, r),
                    );
                }
            }
        }
    };
}

/// Declares a KUnit suite of plain `fn()` test cases, built only with `CONFIG_KUNIT`.
///
/// ```ignore
/// kunit_suite!(rveth_queue, [maps_in_range, wraps_around]);
/// // Code built into several modules (net/): named `<module>_net_ethtool`.
/// kunit_suite!(module_prefixed net_ethtool, [bounded]);
/// ```
#[macro_export]
macro_rules! kunit_suite {
    (module_prefixed $suite:ident, [$($case:ident),+ $(,)?]) => {
        $crate::kunit_suite!(@build $crate::__LOG_PREFIX, $suite, [$($case),+]);
    };
    ($suite:ident, [$($case:ident),+ $(,)?]) => {
        $crate::kunit_suite!(@build b"", $suite, [$($case),+]);
    };
    (@build $module:expr, $suite:ident, [$($case:ident),+]) => {
        #[cfg(CONFIG_KUNIT)]
        const _: () = {
            use kernel::bindings;

            kernel::macros::paste! {
                $(
                    /// # Safety
                    ///
                    /// Only KUnit calls this, with the test it runs.
                    unsafe extern "C" fn [<__kunit_run_ $case>](_test: *mut bindings::kunit) {
                        $case();
                    }
                )+

                const COUNT: usize = [$(stringify!($case)),+].len() + 1;

                static mut CASES: [bindings::kunit_case; COUNT] = [
                    $(
                        $crate::compat::kunit::case(
                            kernel::c_str!(stringify!($case)),
                            $crate::__LOG_PREFIX,
                            [<__kunit_run_ $case>],
                        ),
                    )+
                    $crate::compat::kunit::case_end(),
                ];
            }

            static mut SUITE: bindings::kunit_suite = $crate::compat::kunit::suite(
                $module,
                stringify!($suite),
                core::ptr::addr_of_mut!(CASES).cast(),
            );

            #[used(compiler)]
            #[link_section = ".kunit_test_suites"]
            static mut SUITE_ENTRY: *const bindings::kunit_suite = core::ptr::addr_of_mut!(SUITE);
        };

        // Without KUnit the cases are still type-checked, and not reported as dead code.
        #[cfg(not(CONFIG_KUNIT))]
        const _: &[fn()] = &[$($case),+];
    };
}
