// SPDX-License-Identifier: GPL-2.0

//! Which receive queue of the peer a transmit queue feeds.

/// Maps transmit queue `txq` to one of the peer's `peer_rx_queues` receive queues
/// (`txq mod count`), so any combination of queue counts works.
pub(crate) fn peer_rx_queue(txq: u16, peer_rx_queues: u16) -> u16 {
    match peer_rx_queues {
        0 => 0,
        // The usual case (as many queues on both ends) needs no division.
        n if txq < n => txq,
        n => txq % n,
    }
}

fn same_index_when_counts_match() {
    crate::kassert_eq!(peer_rx_queue(0, 4), 0);
    crate::kassert_eq!(peer_rx_queue(3, 4), 3);
}

fn wraps_when_peer_has_fewer() {
    crate::kassert_eq!(peer_rx_queue(5, 4), 1);
    crate::kassert_eq!(peer_rx_queue(7, 1), 0);
}

fn zero_queues_is_queue_zero() {
    crate::kassert_eq!(peer_rx_queue(3, 0), 0);
}

crate::kunit_suite!(
    rveth_queue_map,
    [
        same_index_when_counts_match,
        wraps_when_peer_has_fewer,
        zero_queues_is_queue_zero,
    ]
);
