package durable

import "fmt"

const childEnv = "BROOK_DURABLE_CHILD"

func runChild(role string) int {
	fmt.Println("unknown role", role)
	return 2
}
