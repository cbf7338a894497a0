"""The selftests' library (as kselftest's net/lib/py): what test files share lives here,
never in a test module; fixtures come in through conftest.py's pytest_plugins.

Where the old helpers went:
  conftest.run/ip/ip_batch/ip_fails/link/links/netns_cmd/RVETH_KO/load_module -> lib.cmd
      (conftest still re-exports them, and make_pair/up_with_addrs/nsrun)
  conftest fixtures netns, rveth_module; the `exclusive` marker  -> lib.fixtures (plugin)
  namespaces.*                                   -> lib.namespaces (same functions; fd())
  ethtool_stats.stats                            -> lib.ethtool.stats
  reliability.* (health/settled/kmemleak_module are fixtures, no import needed)
                                                 -> lib.reliability (netns_fd -> namespaces.fd)
  rtnl.Rtnl and builders (attr, peer, ifinfomsg...) for malformed requests -> lib.rawnl
  rtnl.Rtnl for ordinary requests, guard_of, links(), NetlinkError -> lib.netlink (pyroute2:
      add_pair, set_guard, guard_of, kinds, dellink, move, set_up; NetlinkError)
  test_pair.make_pair/up_with_addrs/has_carrier/nsrun -> lib.pair, lib.cmd.nsrun
  test_stress.new_pair/wired_pair/address/bg/stop/iperf -> lib.pair, lib.cmd, lib.traffic
  test_guard.make_guarded_pair/static_neighbours/drops/proc_rveth/send_frames/ping
                                                 -> lib.guard, lib.traffic.ping
  IFLA_RVETH_*, struct rveth_prefix              -> lib.uapi (parsed from the header)
"""
