# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Two list helpers every layer uses, pure planners and API calls alike."""


def unique(items):
    """The items without repeats, in first-seen order."""
    return list(dict.fromkeys(items))


def batches(items, size):
    """Consecutive slices of at most ``size`` items."""
    items = list(items)
    return [items[start : start + size] for start in range(0, len(items), size)]
