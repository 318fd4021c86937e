// Command interactions is the smallest useful interactions endpoint: a
// /hello command, a button, and a slow command that the endpoint defers
// for you. Set IPCORD_PUBLIC_KEY to your application's public key, run it
// behind HTTPS, and put https://<host>/interactions in the developer
// portal's "Interactions Endpoint URL".
package main
