package discord_test

import (
	"encoding/json"
	"fmt"

	"github.com/ipcord/ipcord/discord"
)

func ExampleSnowflake() {
	var id discord.Snowflake
	_ = json.Unmarshal([]byte(`"175928847299117063"`), &id)
	fmt.Println(id.Timestamp().Format("2006-01-02 15:04:05.000"))
	fmt.Println("shard", id.ShardID(16))
	b, _ := json.Marshal(id)
	fmt.Println(string(b))
	// Output:
	// 2016-04-30 11:18:25.796
	// shard 4
	// "175928847299117063"
}

func ExampleApplicationCommandData_Path() {
	in := discord.Interaction{Type: discord.InteractionApplicationCommand, Data: json.RawMessage(`{
		"name":"config","type":1,
		"options":[{"name":"role","type":2,"options":[{"name":"add","type":1,
			"options":[{"name":"role","type":8,"value":"41771983423143936"}]}]}]}`)}
	d, err := in.CommandData()
	if err != nil {
		panic(err)
	}
	path, _ := d.Path()
	id, _ := d.Option("role").AsSnowflake()
	fmt.Println(path, id)
	// Output: [config role add] 41771983423143936
}
