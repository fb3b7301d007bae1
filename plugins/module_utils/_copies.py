# -*- coding: utf-8 -*-

# Copyright: Contributors to the orgshare.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Start and watch the AMI copies of one destination region, at most a bound of them in flight.

The act side of ami_region_copy: which copy counts, its name and its encryption are decided in
``_images.py``; this module makes the CopyImage calls and the one batched DescribeImages per poll.

EC2 limits the concurrent AMI copies per destination Region (EC2 User Guide, "Copy an AMI":
"Destination Regions are limited to 100 concurrent AMI copies") and refuses one more with
ResourceLimitExceeded. Copies of this run, and earlier copies of it still pending, are kept
within the bound; a refusal all the same (other copies of the account use the quota too) is
waited out, not failed: the copy is tried again after the next poll, the polls backing off.
"""

import time
import uuid
from datetime import datetime
from datetime import timezone

from ansible_collections.orgshare.aws.plugins.module_utils import _ec2
from ansible_collections.orgshare.aws.plugins.module_utils import _images
from ansible_collections.orgshare.aws.plugins.module_utils._api import aws_cause
from ansible_collections.orgshare.aws.plugins.module_utils._api import error_code
from ansible_collections.orgshare.aws.plugins.module_utils._errors import OrgShareError

# Polls come 1, 2, 3, 5 and 8 seconds apart, then every POLL_SECONDS: a copy that ends soon (a
# small AMI, or a copy in its own region) is noticed within a second or three, which matters when
# the quota makes the copies of a region go in rounds; a long one (minutes to hours on AWS) costs
# one call per region per POLL_SECONDS.
POLL_DELAYS = (1, 2, 3, 5, 8)
POLL_SECONDS = 15
# "Eventual consistency in the Amazon EC2 API": a resource just created may be missing from
# Describe calls for a while. A copy missing for this long after CopyImage is gone.
MISSING_GRACE_SECONDS = 60


def utc_now():
    """The time now as EC2 writes it (``2026-11-02T10:00:00.000Z``)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class CopyJob:
    """One copy in a destination region: one to make (``request``), or an earlier one still pending (``image_id``).

    After :meth:`RegionCopies.run`: ``image_id`` (None when CopyImage never succeeded), ``state`` as
    EC2 last reported it, ``image`` as described once available, ``key_arn`` read from its
    snapshots, ``started``/``finished`` times, and ``error`` (with EC2's ``state_reason``) when it failed.
    """

    def __init__(self, source_image_id, request=None, image_id=None, started=None):
        self.source_image_id = source_image_id
        self.request = request
        self.image_id = image_id
        self.state = "pending" if image_id else None
        self.image = None
        self.key_arn = None
        self.started = started
        self.finished = None
        self.error = None
        self.state_reason = None
        self.changed = False
        self.watched_since = None

    def what(self, region):
        """How messages name this copy."""
        return (
            f"The copy {self.image_id} of {self.source_image_id} in {region}"
            if self.image_id
            else f"The copy of {self.source_image_id} into {region}"
        )

    def fail(self, error, state_reason=None):
        self.error, self.state_reason = error, state_reason


class RegionCopies:
    """Starts the copies of one destination region and waits for them, never more than ``bound`` pending.

    ``jobs`` are :class:`CopyJob` objects (updated in place). With ``wait`` false the run ends
    once every copy is started; it still waits for room under the bound to start them. Every
    failure is recorded on its job, never raised, so that the other copies carry on. ``clock``,
    ``sleep`` and ``now`` stand in for ``time.monotonic``, ``time.sleep`` and :func:`utc_now` in tests.
    """

    def __init__(
        self,
        client,
        region,
        jobs,
        bound,
        wait,
        deadline,
        timeout,
        clock=None,
        sleep=None,
        now=None,
        poll_seconds=POLL_SECONDS,
        grace=MISSING_GRACE_SECONDS,
    ):
        self.client, self.region, self.jobs = client, region, jobs
        self.bound, self.wait, self.deadline, self.timeout = bound, wait, deadline, timeout
        self.clock, self.sleep, self.now = clock or time.monotonic, sleep or time.sleep, now or utc_now
        self.poll_seconds, self.grace = poll_seconds, grace
        self.refusals = 0  # CopyImage calls refused for the quota (ResourceLimitExceeded)
        self.most_in_flight = 0

    def run(self):
        queue = [job for job in self.jobs if job.request is not None and job.image_id is None]
        in_flight = [job for job in self.jobs if job.state == "pending"]
        for job in in_flight:
            job.watched_since = self.clock()
        attempt = 0
        while True:
            started = self._start_what_fits(queue, in_flight)
            self.most_in_flight = max(self.most_in_flight, len(in_flight))
            if not queue and not (self.wait and in_flight):
                break
            if self.clock() >= self.deadline:
                self._time_out(queue, in_flight)
                break
            if started:
                attempt = 0
            else:
                self.sleep(min(self._delay(attempt), max(0.0, self.deadline - self.clock())))
                attempt += 1
            try:
                self._poll(in_flight)
            except OrgShareError as e:
                self._lost_sight(queue, in_flight, e)
                break
            in_flight[:] = [job for job in in_flight if job.state == "pending" and job.error is None]
        self._read_keys()

    def _delay(self, attempt):
        return POLL_DELAYS[attempt] if attempt < len(POLL_DELAYS) else self.poll_seconds

    def _start_what_fits(self, queue, in_flight):
        """Start queued copies while there is room under the bound; True when one started."""
        started = False
        while queue and len(in_flight) < self.bound:
            job = queue[0]
            # A new token per attempt: a refused call made no copy. Retries of one attempt (throttling,
            # a lost response) keep its token, so that they return the same copy instead of a second one.
            request = dict(job.request, ClientToken=uuid.uuid4().hex)
            try:
                job.image_id = _ec2.copy_image(self.client, request)
            except _ec2.CopyQuotaReached:
                self.refusals += 1
                return started
            except OrgShareError as e:
                queue.pop(0)
                cause = aws_cause(e.exception)
                job.fail(
                    f"{job.what(self.region)} could not be started: {e.message}" + (f": {cause}." if cause else "."),
                    {"code": error_code(e.exception), "message": cause} if cause else None,
                )
                continue
            queue.pop(0)
            job.state, job.changed, job.started, job.watched_since = "pending", True, self.now(), self.clock()
            in_flight.append(job)
            started = True
        return started

    def _poll(self, in_flight):
        """One DescribeImages (batched) for every copy in flight; those that ended are recorded."""
        if not in_flight:
            return
        found = {
            image["ImageId"]: image
            for image in _ec2.describe_images(self.client, [job.image_id for job in in_flight], ["self"])
        }
        for job in in_flight:
            image = found.get(job.image_id)
            if image is None:
                if self.clock() - job.watched_since >= self.grace:
                    job.state = None
                    job.fail(
                        f"{job.what(self.region)} disappeared (it is no longer found; was it deregistered?): run again to copy it anew."
                    )
                continue  # not visible yet: EC2 is eventually consistent
            job.state = image.get("State")
            if job.state == "available":
                job.image, job.finished = image, self.now()
            elif job.state in _images.FAILED_COPY_STATES:
                job.finished = self.now()
                reason = image.get("StateReason") or {}
                job.fail(
                    f"{job.what(self.region)} is in state {job.state}: {reason.get('Message') or 'EC2 gave no reason'}"
                    + (f" ({reason['Code']})." if reason.get("Code") else "."),
                    {"code": reason.get("Code"), "message": reason.get("Message")},
                )

    def _time_out(self, queue, in_flight):
        for job in queue:
            job.fail(
                f"{job.what(self.region)} was not started within {self.timeout} seconds: {len(in_flight)} copies were still in "
                "flight there (max_concurrent_copies, or EC2's quota of concurrent AMI copies). Run again later to start it."
            )
        if self.wait:
            for job in in_flight:
                job.fail(
                    f"{job.what(self.region)} was still {job.state} after {self.timeout} seconds; run again later "
                    "(the copy will be found, not made twice)."
                )

    def _lost_sight(self, queue, in_flight, error):
        cause = aws_cause(error.exception)
        detail = f"{error.message}" + (f": {cause}" if cause else "")
        for job in in_flight:
            job.fail(
                f"{job.what(self.region)} could not be watched ({detail}); run again later (the copy will be found, not made twice)."
            )
        for job in queue:
            job.fail(
                f"{job.what(self.region)} was not started: the copies in flight could not be watched ({detail}). Run again."
            )

    def _read_keys(self):
        """The key each new available copy's snapshots are encrypted with (one DescribeSnapshots for the region)."""
        finished = [
            job
            for job in self.jobs
            if job.image is not None and job.changed and _images.encrypted_snapshot_ids(job.image)
        ]
        if not finished:
            return
        try:
            snapshots = _ec2.encrypted_snapshots_of(self.client, [job.image for job in finished])
        except OrgShareError:
            return  # the key asked for stands in for the one read back
        for job in finished:
            keys = _images.image_key_arns(job.image, snapshots)
            job.key_arn = keys[0] if keys else None
