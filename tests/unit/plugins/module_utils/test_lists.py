# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The list helpers (_lists)."""

from ansible_collections.orgshare.aws.plugins.module_utils._lists import batches
from ansible_collections.orgshare.aws.plugins.module_utils._lists import unique


def test_unique_keeps_the_first_of_each_in_order():
    assert unique(["b", "a", "b", "c", "a"]) == ["b", "a", "c"]
    assert unique(iter([])) == []


def test_batches_are_consecutive_and_at_most_the_size():
    assert batches(range(5), 2) == [[0, 1], [2, 3], [4]]
    assert batches([], 200) == []
    assert [len(batch) for batch in batches(range(450), 200)] == [200, 200, 50]
