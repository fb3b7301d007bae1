# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""RegionCopies on a scripted EC2 and a fake clock: the bound, the quota, failures, timeouts, polls.

The emulator tests (tests/unit/plugins/modules/test_ami_region_copy.py) run the same code against
moto; here time is simulated, so that hours of copying take no time and every poll is counted.
"""

import botocore.exceptions
import pytest

from ansible_collections.orgshare.aws.plugins.module_utils._copies import CopyJob
from ansible_collections.orgshare.aws.plugins.module_utils._copies import RegionCopies


class Clock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


class ScriptedEC2:
    """CopyImage and DescribeImages of one region: each copy is pending ``duration`` seconds, then ``outcome``.

    ``quota`` refuses a copy beyond that many pending (ResourceLimitExceeded); ``refuse`` maps a source ID to
    an error code CopyImage answers with; ``invisible`` copies are never described.
    """

    def __init__(self, clock, duration=60.0, quota=None, refuse=None, outcome=None, invisible=(), describe_error=None):
        self.clock, self.duration, self.quota = clock, duration, quota
        self.refuse, self.outcome, self.invisible = refuse or {}, outcome or {}, set(invisible)
        self.describe_error = describe_error
        self.copies = {}  # image ID -> (source ID, ready at)
        self.copy_calls = 0
        self.describe_calls = []
        self.most_pending = 0

    def _pending(self):
        return sum(1 for _source, ready_at in self.copies.values() if ready_at > self.clock())

    def copy_image(self, **request):
        self.copy_calls += 1
        source = request["SourceImageId"]
        if source in self.refuse:
            raise botocore.exceptions.ClientError(
                {"Error": {"Code": self.refuse[source], "Message": "refused"}}, "CopyImage"
            )
        if self.quota is not None and self._pending() >= self.quota:
            raise botocore.exceptions.ClientError(
                {"Error": {"Code": "ResourceLimitExceeded", "Message": "too many"}}, "CopyImage"
            )
        image_id = f"ami-{len(self.copies) + 1:017x}"
        self.copies[image_id] = (source, self.clock() + self.duration)
        self.most_pending = max(self.most_pending, self._pending())
        return {"ImageId": image_id}

    def describe_images(self, Filters, **_params):  # pylint: disable=invalid-name
        if self.describe_error:
            raise botocore.exceptions.ClientError(
                {"Error": {"Code": self.describe_error, "Message": "no"}}, "DescribeImages"
            )
        (image_ids,) = [flt["Values"] for flt in Filters if flt["Name"] == "image-id"]
        self.describe_calls.append(len(image_ids))
        images = []
        for image_id in image_ids:
            source, ready_at = self.copies[image_id]
            if image_id in self.invisible:
                continue
            if ready_at > self.clock():
                images.append({"ImageId": image_id, "State": "pending"})
            elif source in self.outcome:
                images.append(
                    {
                        "ImageId": image_id,
                        "State": "failed",
                        "StateReason": {"Code": "Client.Error", "Message": self.outcome[source]},
                    }
                )
            else:
                images.append({"ImageId": image_id, "State": "available", "BlockDeviceMappings": []})
        return {"Images": images}


def jobs(count):
    return [
        CopyJob(
            f"ami-source{number}",
            request={"SourceImageId": f"ami-source{number}", "SourceRegion": "us-east-1", "Name": f"n{number}"},
        )
        for number in range(count)
    ]


def run(ec2, clock, work, bound=2, wait=True, timeout=36000):
    copies = RegionCopies(
        ec2,
        "eu-west-1",
        work,
        bound,
        wait,
        clock() + timeout,
        timeout,
        clock=clock,
        sleep=clock.sleep,
        now=lambda: f"t={clock():08.1f}",
    )
    copies.run()
    return copies


def test_never_more_than_the_bound_in_flight_and_one_describe_per_poll():
    clock = Clock()
    ec2 = ScriptedEC2(clock, duration=600)
    work = jobs(5)
    copies = run(ec2, clock, work, bound=2)
    assert [job.state for job in work] == ["available"] * 5 and all(job.error is None and job.changed for job in work)
    assert ec2.copy_calls == 5 and ec2.most_pending == 2 and copies.refusals == 0 and copies.most_in_flight == 2
    assert max(ec2.describe_calls) <= 2  # one DescribeImages for every copy in flight
    # Three rounds of 600 s each, polled 1, 2, 3, 5 and 8 seconds apart, then every 15 seconds.
    assert clock.sleeps[:7] == [1, 2, 3, 5, 8, 15, 15] and 1800 <= clock.now < 1800 + 60
    assert work[2].started >= min(job.finished for job in work[:2])


def test_refusals_for_the_quota_are_waited_out_not_failed():
    clock = Clock()
    ec2 = ScriptedEC2(clock, duration=300, quota=2)
    work = jobs(4)
    copies = run(ec2, clock, work, bound=100)
    assert [job.state for job in work] == ["available"] * 4 and ec2.most_pending == 2
    assert copies.refusals > 0 and ec2.copy_calls == 4 + copies.refusals
    assert len({job.image_id for job in work}) == 4


def test_a_failed_copy_and_a_refused_one_are_recorded_while_the_others_carry_on():
    clock = Clock()
    ec2 = ScriptedEC2(
        clock, duration=30, refuse={"ami-source1": "InvalidParameterValue"}, outcome={"ami-source2": "snapshot lost"}
    )
    work = jobs(4)
    run(ec2, clock, work, bound=4)
    refused, failed = work[1], work[2]
    assert refused.image_id is None and not refused.changed and refused.state is None
    assert refused.state_reason["code"] == "InvalidParameterValue" and "could not be started" in refused.error
    assert failed.state == "failed" and failed.state_reason == {"code": "Client.Error", "message": "snapshot lost"}
    assert (
        failed.error
        == f"The copy {failed.image_id} of ami-source2 in eu-west-1 is in state failed: snapshot lost (Client.Error)."
    )
    assert [work[0].state, work[3].state] == ["available", "available"] and work[0].error is None


def test_a_copy_not_visible_is_waited_for_then_called_gone():
    clock = Clock()
    work = jobs(1)
    ec2 = ScriptedEC2(clock, duration=5)
    ec2.invisible.add("ami-00000000000000001")
    run(ec2, clock, work)
    assert work[0].state is None and "disappeared" in work[0].error and clock.now >= 60


def test_the_timeout_names_copies_still_pending_and_copies_not_started():
    clock = Clock()
    ec2 = ScriptedEC2(clock, duration=10000)
    work = jobs(3)
    run(ec2, clock, work, bound=2, timeout=100)
    assert [job.state for job in work] == ["pending", "pending", None]
    assert "was still pending after 100 seconds" in work[0].error and "not made twice" in work[0].error
    assert "was not started within 100 seconds: 2 copies were still in flight" in work[2].error


def test_without_wait_the_run_ends_once_every_copy_is_started():
    clock = Clock()
    ec2 = ScriptedEC2(clock, duration=600)
    work = jobs(3)
    run(ec2, clock, work, bound=2, wait=False)
    assert [job.state for job in work] == [
        "available",
        "available",
        "pending",
    ]  # the third waited for room, not for itself
    assert all(job.error is None for job in work) and 600 <= clock.now < 660


def test_an_earlier_pending_copy_counts_against_the_bound_and_is_waited_for():
    clock = Clock()
    ec2 = ScriptedEC2(clock, duration=100)
    ec2.copies["ami-0000000000000earl"] = ("ami-earlier", 50.0)
    earlier = CopyJob("ami-earlier", image_id="ami-0000000000000earl", started="2026-11-01T00:00:00.000Z")
    work = [earlier] + jobs(1)
    run(ec2, clock, work, bound=1)
    assert earlier.state == "available" and not earlier.changed and earlier.started == "2026-11-01T00:00:00.000Z"
    assert work[1].state == "available" and ec2.most_pending == 1  # started only once the earlier copy was done
    assert work[1].started >= earlier.finished


def test_copies_that_cannot_be_watched_are_named_with_the_cause():
    clock = Clock()
    ec2 = ScriptedEC2(clock, duration=600, describe_error="UnauthorizedOperation")
    work = jobs(2)
    run(ec2, clock, work, bound=1)
    assert (
        "could not be watched" in work[0].error
        and "UnauthorizedOperation" in work[0].error
        and "not made twice" in work[0].error
    )
    assert "was not started" in work[1].error and work[1].image_id is None


@pytest.mark.parametrize("bound", [1, 3])
def test_every_poll_describes_only_copies_in_flight(bound):
    clock = Clock()
    ec2 = ScriptedEC2(clock, duration=45)
    run(ec2, clock, jobs(6), bound=bound)
    assert ec2.describe_calls and max(ec2.describe_calls) <= bound
