// One browser test at a time: each test class starts its own server and Chromium, and the leaker tests read the
// kernel's CLOSE_WAIT counts; on a two-core machine, parallel classes would only measure each other.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
