// A discord.js bot the e2e tests run against `ipcord fake`: it reports what
// discord.js parsed (one JSON object per line, as internal/report), sends
// "!say TEXT" back with channel.send, and answers the /ping command with
// interaction.reply. COMPRESS=zlib-stream uses zlib-sync as discord.js
// does whenever it is installed; COMPRESS=none hides zlib-sync from
// discord.js, as on a machine without it.
'use strict';
const Module = require('node:module');
if (process.env.COMPRESS === 'none') {
  const load = Module._load;
  Module._load = function (request, ...rest) {
    if (request === 'zlib-sync') throw new Error('zlib-sync hidden by the test');
    return load.call(this, request, ...rest);
  };
}
const { Client, Events, GatewayIntentBits } = require('discord.js');

function emit(ev, fields) {
  process.stdout.write(JSON.stringify({ ev, ...fields }) + '\n');
}

const client = new Client({
  intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMembers, GatewayIntentBits.GuildMessages,
    GatewayIntentBits.MessageContent],
  rest: { api: process.env.IPCORD_FAKE + '/api' },
});

client.once(Events.ClientReady, c => {
  const guilds = c.guilds.cache.map(g => ({
    id: g.id, name: g.name, channels: g.channels.cache.size, members: g.members.cache.size,
  }));
  emit('ready', { user_id: c.user.id, guilds });
});

client.on(Events.MessageCreate, async m => {
  emit('message', {
    id: m.id, channel_id: m.channelId, guild_id: m.guildId ?? '', author_id: m.author.id, content: m.content,
  });
  if (m.content.startsWith('!say ') && !m.author.bot) {
    try {
      const sent = await m.channel.send(m.content.slice(5));
      emit('sent', { id: sent.id });
    } catch (err) {
      emit('sent', { id: '', err: String(err) });
    }
  }
});

client.on(Events.InteractionCreate, async i => {
  if (!i.isChatInputCommand()) return;
  emit('interaction', { id: i.id, name: i.commandName });
  try {
    await i.reply('pong');
    emit('replied', { id: i.id });
  } catch (err) {
    emit('replied', { id: i.id, err: String(err) });
  }
});

client.on(Events.Error, err => process.stderr.write(`error: ${err}\n`));
client.on(Events.Debug, msg => process.stderr.write(`debug: ${msg}\n`));

process.on('SIGTERM', () => client.destroy().then(() => process.exit(0)));
client.login(process.env.DISCORD_TOKEN).catch(err => {
  process.stderr.write(`login failed: ${err.stack}\n`);
  process.exit(1);
});
