package container

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// helperEnv makes the test binary a stand-in for a shoald that starts a container and dies:
// the environment variable holds a JSON helperJob; the process prints the container's ID and
// exits without stopping anything.
const helperEnv = "SHOAL_CONTAINER_TEST_HELPER"

type helperJob struct {
	ExecRoot, DataRoot, CgroupParent string
	Spec                             Spec
}

func runHelper() int {
	var job helperJob
	if err := json.Unmarshal([]byte(os.Getenv(helperEnv)), &job); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	r, err := New(Options{ExecRoot: job.ExecRoot, DataRoot: job.DataRoot, CgroupParent: job.CgroupParent})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := r.Create(ctx, job.Spec)
	if err == nil {
		err = r.Start(ctx, c.ID)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	fmt.Println(c.ID)
	return 0 // the process ends here, like a killed shoald: no Close, no Stop
}
