package queue

// Fair shares between keys. River takes the available task of the highest
// priority (1 before 4), then the oldest. A task's priority is set when it
// is enqueued, from its rank among its owner's waiting tasks: the owner's
// first `workers` waiting tasks get priority 1, the next `workers` 2, the
// next 3, every later one 4. So a key with 1,000 tasks waiting has almost
// all of them at 4, and another key's small job, whose tasks rank first
// among its own, goes at 1 ahead of them: it waits for at most the tasks
// running and the few of other keys also at 1 (at most `workers` per
// key), not for the big job. Within one key tasks keep their order, except
// that a new job may pass the last tasks of a job nearly done. Two big
// jobs of two keys both end up at 4 and share workers in the order they
// were submitted: the rule protects small jobs from big ones, it does not
// interleave big ones.

// taskPriority is the River priority of a task that has rank tasks of its
// owner waiting before it.
func taskPriority(rank, workers int) int {
	return 1 + min(3, rank/max(workers, 1))
}
