-- The account store as the last release before migrations left it (create_all, then `bot seed` with
-- anchor 2026-12-01 and one row in every other table): tests/test_migrations.py upgrades it.
-- Made once with that release's code; never regenerate it from the current models.
BEGIN TRANSACTION;
CREATE TABLE accounts (
	id INTEGER NOT NULL, 
	number VARCHAR(20) NOT NULL, 
	company VARCHAR(120) NOT NULL, 
	timezone VARCHAR(64) NOT NULL, 
	balance BIGINT NOT NULL, 
	pin_hash VARCHAR(200), 
	PRIMARY KEY (id), 
	UNIQUE (number)
);
INSERT INTO "accounts" VALUES(1,'100100','Despacho Contable Ramírez','America/Mexico_City',59872,'scrypt-hmac$16384$8$1$37e56166ca9dded038d1a0a7e6c678fd$79beff0652bf9ce65bc749d5263d638a7736ef0a3737a4db82599b4c18d8b33d');
INSERT INTO "accounts" VALUES(2,'200200','Taller Mecánico Hernández','America/Mexico_City',30162,'scrypt-hmac$16384$8$1$af1553afba70ab4564d0ec8d7c78e49a$e19fcd7b53c1e50b7829428661a36c296105aaabce21d64c592c8dfe9bda2e44');
CREATE TABLE alert_outbox (
	id INTEGER NOT NULL, 
	subscription_id INTEGER, 
	account VARCHAR(20) NOT NULL, 
	kind VARCHAR(20) NOT NULL, 
	channel VARCHAR(30) NOT NULL, 
	channel_user VARCHAR(120) NOT NULL, 
	variables TEXT NOT NULL, 
	dedupe_key VARCHAR(120) NOT NULL, 
	status VARCHAR(13) NOT NULL, 
	attempts INTEGER NOT NULL, 
	next_attempt_at DATETIME NOT NULL, 
	claim_token VARCHAR(40), 
	lease_until DATETIME, 
	last_error VARCHAR(300), 
	source_at DATETIME NOT NULL, 
	created_at DATETIME NOT NULL, 
	sent_at DATETIME, 
	PRIMARY KEY (id), 
	FOREIGN KEY(subscription_id) REFERENCES alert_subscriptions (id) ON DELETE SET NULL, 
	UNIQUE (dedupe_key)
);
INSERT INTO "alert_outbox" VALUES(7,7,'alert_outbox-account','alert_outbox-kind','alert_outbox-channel','alert_outbox-channel_user','alert_outbox-variables','alert_outbox-dedupe_key','pending',7,'2026-11-30 15:04:05.000000','alert_outbox-claim_token','2026-11-30 15:04:05.000000','alert_outbox-last_error','2026-11-30 15:04:05.000000','2026-11-30 15:04:05.000000','2026-11-30 15:04:05.000000');
CREATE TABLE alert_state (
	"key" VARCHAR(40) NOT NULL, 
	value TEXT NOT NULL, 
	PRIMARY KEY ("key")
);
INSERT INTO "alert_state" VALUES('alert_state-key','alert_state-value');
CREATE TABLE alert_subscriptions (
	id INTEGER NOT NULL, 
	account VARCHAR(20) NOT NULL, 
	channel VARCHAR(30) NOT NULL, 
	channel_user VARCHAR(120) NOT NULL, 
	threshold BIGINT NOT NULL, 
	armed BOOLEAN NOT NULL, 
	after_entry_id INTEGER NOT NULL, 
	after_failure_id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (account, channel, channel_user)
);
INSERT INTO "alert_subscriptions" VALUES(7,'alert_subscriptions-','alert_subscriptions-channel','alert_subscriptions-channel_user',12345,1,7,7,'2026-11-30 15:04:05.000000');
CREATE TABLE auto_recharge (
	account_id INTEGER NOT NULL, 
	enabled BOOLEAN NOT NULL, 
	threshold BIGINT NOT NULL, 
	amount BIGINT NOT NULL, 
	PRIMARY KEY (account_id), 
	FOREIGN KEY(account_id) REFERENCES accounts (id) ON DELETE CASCADE
);
INSERT INTO "auto_recharge" VALUES(1,1,20000,50000);
INSERT INTO "auto_recharge" VALUES(2,0,10000,30000);
CREATE TABLE cards (
	account_id INTEGER NOT NULL, 
	brand VARCHAR(20) NOT NULL, 
	last4 VARCHAR(4) NOT NULL, 
	exp_month SMALLINT NOT NULL, 
	exp_year SMALLINT NOT NULL, 
	PRIMARY KEY (account_id), 
	CONSTRAINT card_last4_len CHECK (length(last4) = 4), 
	CONSTRAINT card_exp_month CHECK (exp_month BETWEEN 1 AND 12), 
	FOREIGN KEY(account_id) REFERENCES accounts (id) ON DELETE CASCADE
);
INSERT INTO "cards" VALUES(1,'Visa','4242',8,2028);
INSERT INTO "cards" VALUES(2,'Mastercard','5454',3,2027);
CREATE TABLE case_messages (
	id INTEGER NOT NULL, 
	case_id INTEGER NOT NULL, 
	author VARCHAR(8) NOT NULL, 
	agent_id INTEGER, 
	agent_name VARCHAR(80), 
	text TEXT NOT NULL, 
	at DATETIME NOT NULL, 
	delivery VARCHAR(7), 
	delivery_note VARCHAR(200), 
	attempts INTEGER NOT NULL, 
	delivered_at DATETIME, 
	synced BOOLEAN NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(case_id) REFERENCES support_cases (id) ON DELETE CASCADE, 
	FOREIGN KEY(agent_id) REFERENCES staff_users (id)
);
INSERT INTO "case_messages" VALUES(7,7,'customer',7,'case_messages-agent_name','case_messages-text','2026-11-30 15:04:05.000000','pending','case_messages-delivery_note',7,'2026-11-30 15:04:05.000000',1);
CREATE TABLE channel_links (
	channel VARCHAR(20) NOT NULL, 
	user_id VARCHAR(120) NOT NULL, 
	account_id INTEGER NOT NULL, 
	linked_at DATETIME NOT NULL, 
	PRIMARY KEY (channel, user_id), 
	FOREIGN KEY(account_id) REFERENCES accounts (id) ON DELETE CASCADE
);
INSERT INTO "channel_links" VALUES('channel_links-channe','channel_links-user_id',1,'2026-11-30 15:04:05.000000');
CREATE TABLE channel_states (
	channel VARCHAR(20) NOT NULL, 
	user_id VARCHAR(120) NOT NULL, 
	link_step VARCHAR(10), 
	pending_account VARCHAR(20), 
	failures INTEGER NOT NULL, 
	locked_until DATETIME, 
	options TEXT, 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY (channel, user_id)
);
INSERT INTO "channel_states" VALUES('channel_states-chann','channel_states-user_id','channel_st','channel_states-pendi',7,'2026-11-30 15:04:05.000000','channel_states-options','2026-11-30 15:04:05.000000');
CREATE TABLE deliveries (
	channel VARCHAR(20) NOT NULL, 
	message_id VARCHAR(128) NOT NULL, 
	received_at DATETIME NOT NULL, 
	PRIMARY KEY (channel, message_id)
);
INSERT INTO "deliveries" VALUES('deliveries-channel','deliveries-message_id','2026-11-30 15:04:05.000000');
CREATE TABLE extensions (
	id INTEGER NOT NULL, 
	account_id INTEGER NOT NULL, 
	number VARCHAR(8) NOT NULL, 
	label VARCHAR(80) NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (account_id, number), 
	FOREIGN KEY(account_id) REFERENCES accounts (id) ON DELETE CASCADE
);
INSERT INTO "extensions" VALUES(1,1,'101','Recepción');
INSERT INTO "extensions" VALUES(2,1,'102','Ventas');
INSERT INTO "extensions" VALUES(3,1,'103','Dirección');
INSERT INTO "extensions" VALUES(4,1,'201','Soporte');
INSERT INTO "extensions" VALUES(5,2,'101','Mostrador');
INSERT INTO "extensions" VALUES(6,2,'102','Almacén');
CREATE TABLE insight_labels (
	text VARCHAR(500) NOT NULL, 
	label VARCHAR(60) NOT NULL, 
	labelled_by VARCHAR(80) NOT NULL, 
	labelled_at DATETIME NOT NULL, 
	PRIMARY KEY (text)
);
INSERT INTO "insight_labels" VALUES('insight_labels-text','insight_labels-label','insight_labels-labelled_by','2026-11-30 15:04:05.000000');
CREATE TABLE insight_state (
	"key" VARCHAR(40) NOT NULL, 
	value TEXT NOT NULL, 
	PRIMARY KEY ("key")
);
INSERT INTO "insight_state" VALUES('insight_state-key','insight_state-value');
CREATE TABLE insight_turns (
	event_id INTEGER NOT NULL, 
	sender_id VARCHAR(255) NOT NULL, 
	at DATETIME NOT NULL, 
	day DATE NOT NULL, 
	channel VARCHAR(30) NOT NULL, 
	intent VARCHAR(60), 
	confidence FLOAT, 
	guess_1 VARCHAR(60), 
	confidence_1 FLOAT, 
	guess_2 VARCHAR(60), 
	confidence_2 FLOAT, 
	fallback BOOLEAN NOT NULL, 
	clarified BOOLEAN NOT NULL, 
	second_miss BOOLEAN NOT NULL, 
	picked BOOLEAN NOT NULL, 
	handoff_reason VARCHAR(20), 
	lookup VARCHAR(40), 
	response_ms INTEGER, 
	text TEXT, 
	PRIMARY KEY (event_id)
);
INSERT INTO "insight_turns" VALUES(7,'insight_turns-sender_id','2026-11-30 15:04:05.000000','2026-11-30','insight_turns-channel','insight_turns-intent',0.75,'insight_turns-guess_1',0.75,'insight_turns-guess_2',0.75,1,1,1,1,'insight_turns-handof','insight_turns-lookup',7,'insight_turns-text');
CREATE TABLE ledger_entries (
	id INTEGER NOT NULL, 
	account_id INTEGER NOT NULL, 
	occurred_at DATETIME NOT NULL, 
	kind VARCHAR(13) NOT NULL, 
	amount BIGINT NOT NULL, 
	balance_after BIGINT NOT NULL, 
	extension_id INTEGER, 
	destination_country VARCHAR(60), 
	duration_seconds INTEGER, 
	PRIMARY KEY (id), 
	CONSTRAINT ledger_amount_sign CHECK ((kind = 'call_charge' AND amount < 0) OR (kind <> 'call_charge' AND amount > 0)), 
	FOREIGN KEY(account_id) REFERENCES accounts (id) ON DELETE CASCADE, 
	FOREIGN KEY(extension_id) REFERENCES extensions (id)
);
INSERT INTO "ledger_entries" VALUES(1,1,'2026-09-02 15:00:00.000000','deposit',100000,100000,NULL,NULL,NULL);
INSERT INTO "ledger_entries" VALUES(2,1,'2026-09-02 16:05:00.000000','call_charge',-1604,98396,2,'Colombia',802);
INSERT INTO "ledger_entries" VALUES(3,1,'2026-09-02 16:38:00.000000','call_charge',-663,97733,4,'Canadá',796);
INSERT INTO "ledger_entries" VALUES(4,1,'2026-09-02 18:27:00.000000','call_charge',-1311,96422,1,'Guatemala',437);
INSERT INTO "ledger_entries" VALUES(5,1,'2026-09-03 15:36:00.000000','call_charge',-4487,91935,2,'España (celular)',1282);
INSERT INTO "ledger_entries" VALUES(6,1,'2026-09-03 18:17:00.000000','call_charge',-177,91758,4,'Estados Unidos',236);
INSERT INTO "ledger_entries" VALUES(7,1,'2026-09-03 23:29:00.000000','call_charge',-468,91290,3,'Colombia',234);
INSERT INTO "ledger_entries" VALUES(8,1,'2026-09-04 16:22:00.000000','call_charge',-1664,89626,1,'Colombia',832);
INSERT INTO "ledger_entries" VALUES(9,1,'2026-09-04 22:29:00.000000','call_charge',-278,89348,4,'Estados Unidos',370);
INSERT INTO "ledger_entries" VALUES(10,1,'2026-09-05 00:21:00.000000','call_charge',-168,89180,2,'Estados Unidos',224);
INSERT INTO "ledger_entries" VALUES(11,1,'2026-09-05 15:10:00.000000','call_charge',-2520,86660,2,'España (celular)',720);
INSERT INTO "ledger_entries" VALUES(12,1,'2026-09-05 22:28:00.000000','call_charge',-1092,85568,4,'España (celular)',312);
INSERT INTO "ledger_entries" VALUES(13,1,'2026-09-06 00:58:00.000000','call_charge',-7854,77714,1,'Número premium 900',476);
INSERT INTO "ledger_entries" VALUES(14,1,'2026-09-07 16:05:00.000000','call_charge',-199,77515,3,'Estados Unidos',265);
INSERT INTO "ledger_entries" VALUES(15,1,'2026-09-07 21:24:00.000000','call_charge',-396,77119,1,'Canadá',475);
INSERT INTO "ledger_entries" VALUES(16,1,'2026-09-07 22:29:00.000000','call_charge',-1018,76101,3,'Colombia',509);
INSERT INTO "ledger_entries" VALUES(17,1,'2026-09-08 15:26:00.000000','call_charge',-220,75881,2,'Estados Unidos',293);
INSERT INTO "ledger_entries" VALUES(18,1,'2026-09-08 22:47:00.000000','call_charge',-752,75129,3,'Estados Unidos',1002);
INSERT INTO "ledger_entries" VALUES(19,1,'2026-09-08 23:05:00.000000','call_charge',-170,74959,1,'Estados Unidos',227);
INSERT INTO "ledger_entries" VALUES(20,1,'2026-09-09 17:03:00.000000','call_charge',-878,74081,3,'Estados Unidos',1171);
INSERT INTO "ledger_entries" VALUES(21,1,'2026-09-09 18:54:00.000000','call_charge',-961,73120,3,'Estados Unidos',1281);
INSERT INTO "ledger_entries" VALUES(22,1,'2026-09-09 23:21:00.000000','call_charge',-836,72284,1,'Canadá',1003);
INSERT INTO "ledger_entries" VALUES(23,1,'2026-09-10 19:23:00.000000','call_charge',-540,71744,3,'Canadá',648);
INSERT INTO "ledger_entries" VALUES(24,1,'2026-09-10 20:43:00.000000','call_charge',-696,71048,3,'Guatemala',232);
INSERT INTO "ledger_entries" VALUES(25,1,'2026-09-10 23:02:00.000000','call_charge',-305,70743,1,'Estados Unidos',406);
INSERT INTO "ledger_entries" VALUES(26,1,'2026-09-11 18:44:00.000000','call_charge',-2286,68457,1,'España (celular)',653);
INSERT INTO "ledger_entries" VALUES(27,1,'2026-09-11 19:24:00.000000','call_charge',-169,68288,1,'Estados Unidos',225);
INSERT INTO "ledger_entries" VALUES(28,1,'2026-09-12 00:35:00.000000','call_charge',-1880,66408,1,'España (celular)',537);
INSERT INTO "ledger_entries" VALUES(29,1,'2026-09-12 18:30:00.000000','call_charge',-1008,65400,1,'Canadá',1209);
INSERT INTO "ledger_entries" VALUES(30,1,'2026-09-12 23:03:00.000000','call_charge',-383,65017,3,'Canadá',460);
INSERT INTO "ledger_entries" VALUES(31,1,'2026-09-12 23:49:00.000000','call_charge',-3165,61852,1,'Guatemala',1055);
INSERT INTO "ledger_entries" VALUES(32,1,'2026-09-14 16:09:00.000000','call_charge',-1124,60728,4,'Estados Unidos',1499);
INSERT INTO "ledger_entries" VALUES(33,1,'2026-09-14 16:11:00.000000','call_charge',-938,59790,1,'Estados Unidos',1251);
INSERT INTO "ledger_entries" VALUES(34,1,'2026-09-14 22:48:00.000000','call_charge',-970,58820,3,'Estados Unidos',1293);
INSERT INTO "ledger_entries" VALUES(35,1,'2026-09-15 16:22:00.000000','call_charge',-464,58356,4,'Estados Unidos',619);
INSERT INTO "ledger_entries" VALUES(36,1,'2026-09-15 22:43:00.000000','call_charge',-16253,42103,1,'Número premium 900',985);
INSERT INTO "ledger_entries" VALUES(37,1,'2026-09-15 23:20:00.000000','call_charge',-3231,38872,2,'España (celular)',923);
INSERT INTO "ledger_entries" VALUES(38,1,'2026-09-16 19:40:00.000000','call_charge',-23777,15095,2,'Número premium 900',1441);
INSERT INTO "ledger_entries" VALUES(39,1,'2026-09-16 19:41:00.000000','auto_recharge',50000,65095,NULL,NULL,NULL);
INSERT INTO "ledger_entries" VALUES(40,1,'2026-09-16 23:08:00.000000','call_charge',-4725,60370,3,'España (celular)',1350);
INSERT INTO "ledger_entries" VALUES(41,1,'2026-09-17 00:01:00.000000','call_charge',-3462,56908,4,'Guatemala',1154);
INSERT INTO "ledger_entries" VALUES(42,1,'2026-09-17 17:56:00.000000','call_charge',-855,56053,2,'Estados Unidos',1140);
INSERT INTO "ledger_entries" VALUES(43,1,'2026-09-17 23:05:00.000000','call_charge',-429,55624,4,'Estados Unidos',572);
INSERT INTO "ledger_entries" VALUES(44,1,'2026-09-17 23:51:00.000000','call_charge',-102,55522,1,'Guatemala',34);
INSERT INTO "ledger_entries" VALUES(45,1,'2026-09-18 20:15:00.000000','call_charge',-9042,46480,3,'Número premium 900',548);
INSERT INTO "ledger_entries" VALUES(46,1,'2026-09-18 22:48:00.000000','call_charge',-34,46446,3,'Estados Unidos',45);
INSERT INTO "ledger_entries" VALUES(47,1,'2026-09-19 00:22:00.000000','call_charge',-1238,45208,4,'Canadá',1485);
INSERT INTO "ledger_entries" VALUES(48,1,'2026-09-19 18:12:00.000000','call_charge',-956,44252,1,'Colombia',478);
INSERT INTO "ledger_entries" VALUES(49,1,'2026-09-19 19:58:00.000000','call_charge',-695,43557,3,'Canadá',834);
INSERT INTO "ledger_entries" VALUES(50,1,'2026-09-19 21:53:00.000000','call_charge',-1084,42473,1,'Canadá',1301);
INSERT INTO "ledger_entries" VALUES(51,1,'2026-09-21 18:32:00.000000','call_charge',-2678,39795,4,'España (celular)',765);
INSERT INTO "ledger_entries" VALUES(52,1,'2026-09-21 22:15:00.000000','call_charge',-1037,38758,2,'Estados Unidos',1383);
INSERT INTO "ledger_entries" VALUES(53,1,'2026-09-21 22:17:00.000000','call_charge',-1213,37545,4,'Canadá',1456);
INSERT INTO "ledger_entries" VALUES(54,1,'2026-09-22 15:10:00.000000','call_charge',-476,37069,4,'Colombia',238);
INSERT INTO "ledger_entries" VALUES(55,1,'2026-09-22 16:09:00.000000','call_charge',-297,36772,1,'Estados Unidos',396);
INSERT INTO "ledger_entries" VALUES(56,1,'2026-09-22 22:43:00.000000','call_charge',-2636,34136,1,'España (celular)',753);
INSERT INTO "ledger_entries" VALUES(57,1,'2026-09-23 18:13:00.000000','call_charge',-1558,32578,1,'España (celular)',445);
INSERT INTO "ledger_entries" VALUES(58,1,'2026-09-23 21:00:00.000000','call_charge',-1290,31288,1,'Colombia',645);
INSERT INTO "ledger_entries" VALUES(59,1,'2026-09-23 23:58:00.000000','call_charge',-230,31058,2,'Estados Unidos',306);
INSERT INTO "ledger_entries" VALUES(60,1,'2026-09-24 16:40:00.000000','call_charge',-525,30533,3,'Estados Unidos',700);
INSERT INTO "ledger_entries" VALUES(61,1,'2026-09-24 21:00:00.000000','call_charge',-2032,28501,3,'Colombia',1016);
INSERT INTO "ledger_entries" VALUES(62,1,'2026-09-24 23:21:00.000000','call_charge',-14108,14393,4,'Número premium 900',855);
INSERT INTO "ledger_entries" VALUES(63,1,'2026-09-24 23:22:00.000000','auto_recharge',50000,64393,NULL,NULL,NULL);
INSERT INTO "ledger_entries" VALUES(64,1,'2026-09-25 15:35:00.000000','call_charge',-230,64163,1,'Estados Unidos',306);
INSERT INTO "ledger_entries" VALUES(65,1,'2026-09-25 18:31:00.000000','call_charge',-833,63330,3,'España (celular)',238);
INSERT INTO "ledger_entries" VALUES(66,1,'2026-09-25 19:36:00.000000','call_charge',-1039,62291,4,'Canadá',1247);
INSERT INTO "ledger_entries" VALUES(67,1,'2026-09-26 15:25:00.000000','call_charge',-1022,61269,1,'Estados Unidos',1363);
INSERT INTO "ledger_entries" VALUES(68,1,'2026-09-26 19:13:00.000000','call_charge',-153,61116,2,'Estados Unidos',204);
INSERT INTO "ledger_entries" VALUES(69,1,'2026-09-26 23:46:00.000000','call_charge',-4249,56867,4,'España (celular)',1214);
INSERT INTO "ledger_entries" VALUES(70,1,'2026-09-28 15:29:00.000000','call_charge',-1368,55499,4,'Colombia',684);
INSERT INTO "ledger_entries" VALUES(71,1,'2026-09-28 23:26:00.000000','call_charge',-1652,53847,2,'España (celular)',472);
INSERT INTO "ledger_entries" VALUES(72,1,'2026-09-29 00:59:00.000000','call_charge',-19932,33915,4,'Número premium 900',1208);
INSERT INTO "ledger_entries" VALUES(73,1,'2026-09-29 16:53:00.000000','call_charge',-303,33612,3,'Canadá',363);
INSERT INTO "ledger_entries" VALUES(74,1,'2026-09-29 19:50:00.000000','call_charge',-626,32986,3,'Estados Unidos',835);
INSERT INTO "ledger_entries" VALUES(75,1,'2026-09-30 00:40:00.000000','call_charge',-1504,31482,3,'Colombia',752);
INSERT INTO "ledger_entries" VALUES(76,1,'2026-09-30 15:56:00.000000','call_charge',-9455,22027,4,'Número premium 900',573);
INSERT INTO "ledger_entries" VALUES(77,1,'2026-09-30 18:05:00.000000','call_charge',-193,21834,4,'Canadá',231);
INSERT INTO "ledger_entries" VALUES(78,1,'2026-09-30 19:53:00.000000','call_charge',-902,20932,4,'Estados Unidos',1203);
INSERT INTO "ledger_entries" VALUES(79,1,'2026-10-01 16:49:00.000000','call_charge',-1172,19760,4,'Número premium 900',71);
INSERT INTO "ledger_entries" VALUES(80,1,'2026-10-01 16:50:00.000000','auto_recharge',50000,69760,NULL,NULL,NULL);
INSERT INTO "ledger_entries" VALUES(81,1,'2026-10-01 17:12:00.000000','call_charge',-949,68811,2,'Canadá',1139);
INSERT INTO "ledger_entries" VALUES(82,1,'2026-10-01 23:02:00.000000','call_charge',-2992,65819,4,'Colombia',1496);
INSERT INTO "ledger_entries" VALUES(83,1,'2026-10-02 15:50:00.000000','call_charge',-836,64983,4,'Canadá',1003);
INSERT INTO "ledger_entries" VALUES(84,1,'2026-10-02 22:05:00.000000','call_charge',-1256,63727,2,'Colombia',628);
INSERT INTO "ledger_entries" VALUES(85,1,'2026-10-02 22:22:00.000000','call_charge',-856,62871,1,'Estados Unidos',1141);
INSERT INTO "ledger_entries" VALUES(86,1,'2026-10-03 22:42:00.000000','call_charge',-1112,61759,1,'Colombia',556);
INSERT INTO "ledger_entries" VALUES(87,1,'2026-10-03 23:22:00.000000','call_charge',-746,61013,2,'Colombia',373);
INSERT INTO "ledger_entries" VALUES(88,1,'2026-10-04 00:06:00.000000','call_charge',-239,60774,2,'Estados Unidos',319);
INSERT INTO "ledger_entries" VALUES(89,1,'2026-10-05 15:10:00.000000','call_charge',-1151,59623,2,'Canadá',1381);
INSERT INTO "ledger_entries" VALUES(90,1,'2026-10-05 19:35:00.000000','call_charge',-3507,56116,3,'España (celular)',1002);
INSERT INTO "ledger_entries" VALUES(91,1,'2026-10-06 00:06:00.000000','call_charge',-302,55814,4,'Estados Unidos',402);
INSERT INTO "ledger_entries" VALUES(92,1,'2026-10-06 16:06:00.000000','call_charge',-2888,52926,2,'Número premium 900',175);
INSERT INTO "ledger_entries" VALUES(93,1,'2026-10-06 21:10:00.000000','call_charge',-475,52451,2,'Estados Unidos',633);
INSERT INTO "ledger_entries" VALUES(94,1,'2026-10-07 00:30:00.000000','call_charge',-510,51941,3,'Estados Unidos',680);
INSERT INTO "ledger_entries" VALUES(95,1,'2026-10-07 16:26:00.000000','call_charge',-2611,49330,1,'España (celular)',746);
INSERT INTO "ledger_entries" VALUES(96,1,'2026-10-07 17:22:00.000000','call_charge',-3159,46171,1,'Guatemala',1053);
INSERT INTO "ledger_entries" VALUES(97,1,'2026-10-07 22:25:00.000000','call_charge',-1854,44317,4,'Colombia',927);
INSERT INTO "ledger_entries" VALUES(98,1,'2026-10-08 17:41:00.000000','call_charge',-2468,41849,2,'Colombia',1234);
INSERT INTO "ledger_entries" VALUES(99,1,'2026-10-08 22:56:00.000000','call_charge',-351,41498,1,'Canadá',421);
INSERT INTO "ledger_entries" VALUES(100,1,'2026-10-08 23:02:00.000000','call_charge',-474,41024,4,'Estados Unidos',632);
INSERT INTO "ledger_entries" VALUES(101,1,'2026-10-09 16:44:00.000000','call_charge',-512,40512,3,'Estados Unidos',682);
INSERT INTO "ledger_entries" VALUES(102,1,'2026-10-09 17:02:00.000000','call_charge',-193,40319,1,'Estados Unidos',257);
INSERT INTO "ledger_entries" VALUES(103,1,'2026-10-09 18:48:00.000000','call_charge',-3081,37238,2,'Guatemala',1027);
INSERT INTO "ledger_entries" VALUES(104,1,'2026-10-10 16:54:00.000000','call_charge',-2806,34432,1,'Colombia',1403);
INSERT INTO "ledger_entries" VALUES(105,1,'2026-10-10 22:11:00.000000','call_charge',-2186,32246,2,'Colombia',1093);
INSERT INTO "ledger_entries" VALUES(106,1,'2026-10-11 00:26:00.000000','call_charge',-196,32050,2,'España (celular)',56);
INSERT INTO "ledger_entries" VALUES(107,1,'2026-10-12 22:42:00.000000','call_charge',-735,31315,4,'Canadá',882);
INSERT INTO "ledger_entries" VALUES(108,1,'2026-10-12 22:46:00.000000','call_charge',-279,31036,4,'Estados Unidos',372);
INSERT INTO "ledger_entries" VALUES(109,1,'2026-10-12 23:06:00.000000','call_charge',-123,30913,1,'Estados Unidos',164);
INSERT INTO "ledger_entries" VALUES(110,1,'2026-10-13 18:09:00.000000','call_charge',-796,30117,4,'Colombia',398);
INSERT INTO "ledger_entries" VALUES(111,1,'2026-10-14 00:27:00.000000','call_charge',-2036,28081,3,'Colombia',1018);
INSERT INTO "ledger_entries" VALUES(112,1,'2026-10-14 00:29:00.000000','call_charge',-2966,25115,1,'Colombia',1483);
INSERT INTO "ledger_entries" VALUES(113,1,'2026-10-14 17:05:00.000000','call_charge',-946,24169,3,'Colombia',473);
INSERT INTO "ledger_entries" VALUES(114,1,'2026-10-14 18:15:00.000000','call_charge',-713,23456,1,'Estados Unidos',951);
INSERT INTO "ledger_entries" VALUES(115,1,'2026-10-14 18:27:00.000000','call_charge',-1229,22227,1,'España (celular)',351);
INSERT INTO "ledger_entries" VALUES(116,1,'2026-10-15 17:21:00.000000','call_charge',-1106,21121,2,'Canadá',1327);
INSERT INTO "ledger_entries" VALUES(117,1,'2026-10-15 17:40:00.000000','call_charge',-934,20187,1,'Canadá',1121);
INSERT INTO "ledger_entries" VALUES(118,1,'2026-10-15 22:41:00.000000','call_charge',-158,20029,2,'Estados Unidos',211);
INSERT INTO "ledger_entries" VALUES(119,1,'2026-10-16 17:27:00.000000','call_charge',-214,19815,4,'Estados Unidos',285);
INSERT INTO "ledger_entries" VALUES(120,1,'2026-10-16 17:28:00.000000','auto_recharge',50000,69815,NULL,NULL,NULL);
INSERT INTO "ledger_entries" VALUES(121,1,'2026-10-16 19:48:00.000000','call_charge',-632,69183,2,'Estados Unidos',843);
INSERT INTO "ledger_entries" VALUES(122,1,'2026-10-17 00:05:00.000000','call_charge',-653,68530,4,'Estados Unidos',870);
INSERT INTO "ledger_entries" VALUES(123,1,'2026-10-17 19:55:00.000000','call_charge',-2251,66279,2,'España (celular)',643);
INSERT INTO "ledger_entries" VALUES(124,1,'2026-10-17 23:53:00.000000','call_charge',-334,65945,2,'Colombia',167);
INSERT INTO "ledger_entries" VALUES(125,1,'2026-10-17 23:55:00.000000','call_charge',-489,65456,3,'Estados Unidos',652);
INSERT INTO "ledger_entries" VALUES(126,1,'2026-10-19 16:20:00.000000','call_charge',-912,64544,4,'Estados Unidos',1216);
INSERT INTO "ledger_entries" VALUES(127,1,'2026-10-19 20:16:00.000000','call_charge',-571,63973,2,'Estados Unidos',761);
INSERT INTO "ledger_entries" VALUES(128,1,'2026-10-19 22:22:00.000000','call_charge',-1533,62440,2,'Guatemala',511);
INSERT INTO "ledger_entries" VALUES(129,1,'2026-10-20 15:56:00.000000','call_charge',-520,61920,1,'Estados Unidos',693);
INSERT INTO "ledger_entries" VALUES(130,1,'2026-10-20 21:02:00.000000','call_charge',-177,61743,3,'Estados Unidos',236);
INSERT INTO "ledger_entries" VALUES(131,1,'2026-10-20 23:34:00.000000','call_charge',-2226,59517,1,'Colombia',1113);
INSERT INTO "ledger_entries" VALUES(132,1,'2026-10-21 19:32:00.000000','call_charge',-13151,46366,1,'Número premium 900',797);
INSERT INTO "ledger_entries" VALUES(133,1,'2026-10-21 23:06:00.000000','call_charge',-6897,39469,2,'Número premium 900',418);
INSERT INTO "ledger_entries" VALUES(134,1,'2026-10-22 00:39:00.000000','call_charge',-377,39092,4,'Estados Unidos',502);
INSERT INTO "ledger_entries" VALUES(135,1,'2026-10-22 17:22:00.000000','call_charge',-422,38670,4,'Canadá',506);
INSERT INTO "ledger_entries" VALUES(136,1,'2026-10-22 22:14:00.000000','call_charge',-2974,35696,2,'Colombia',1487);
INSERT INTO "ledger_entries" VALUES(137,1,'2026-10-22 22:51:00.000000','call_charge',-979,34717,3,'Estados Unidos',1305);
INSERT INTO "ledger_entries" VALUES(138,1,'2026-10-23 18:29:00.000000','call_charge',-2149,32568,1,'España (celular)',614);
INSERT INTO "ledger_entries" VALUES(139,1,'2026-10-23 19:35:00.000000','call_charge',-1758,30810,1,'Colombia',879);
INSERT INTO "ledger_entries" VALUES(140,1,'2026-10-23 23:47:00.000000','call_charge',-3123,27687,3,'Guatemala',1041);
INSERT INTO "ledger_entries" VALUES(141,1,'2026-10-24 21:07:00.000000','call_charge',-896,26791,2,'Estados Unidos',1195);
INSERT INTO "ledger_entries" VALUES(142,1,'2026-10-24 23:00:00.000000','call_charge',-621,26170,2,'Canadá',745);
INSERT INTO "ledger_entries" VALUES(143,1,'2026-10-24 23:39:00.000000','call_charge',-43,26127,2,'Estados Unidos',57);
INSERT INTO "ledger_entries" VALUES(144,1,'2026-10-26 19:09:00.000000','call_charge',-185,25942,1,'Estados Unidos',247);
INSERT INTO "ledger_entries" VALUES(145,1,'2026-10-26 19:10:00.000000','call_charge',-792,25150,3,'Canadá',950);
INSERT INTO "ledger_entries" VALUES(146,1,'2026-10-27 00:25:00.000000','call_charge',-1060,24090,3,'Estados Unidos',1413);
INSERT INTO "ledger_entries" VALUES(147,1,'2026-10-27 18:27:00.000000','call_charge',-369,23721,3,'Guatemala',123);
INSERT INTO "ledger_entries" VALUES(148,1,'2026-10-27 19:52:00.000000','call_charge',-65,23656,1,'Estados Unidos',87);
INSERT INTO "ledger_entries" VALUES(149,1,'2026-10-27 23:24:00.000000','call_charge',-198,23458,1,'Estados Unidos',264);
INSERT INTO "ledger_entries" VALUES(150,1,'2026-10-28 17:16:00.000000','call_charge',-86,23372,4,'Estados Unidos',114);
INSERT INTO "ledger_entries" VALUES(151,1,'2026-10-28 18:48:00.000000','call_charge',-7161,16211,3,'Número premium 900',434);
INSERT INTO "ledger_entries" VALUES(152,1,'2026-10-28 18:49:00.000000','auto_recharge',50000,66211,NULL,NULL,NULL);
INSERT INTO "ledger_entries" VALUES(153,1,'2026-10-28 21:23:00.000000','call_charge',-313,65898,1,'Canadá',376);
INSERT INTO "ledger_entries" VALUES(154,1,'2026-10-29 19:52:00.000000','call_charge',-8316,57582,1,'Número premium 900',504);
INSERT INTO "ledger_entries" VALUES(155,1,'2026-10-29 21:46:00.000000','call_charge',-3241,54341,3,'España (celular)',926);
INSERT INTO "ledger_entries" VALUES(156,1,'2026-10-29 22:30:00.000000','call_charge',-663,53678,3,'Canadá',796);
INSERT INTO "ledger_entries" VALUES(157,1,'2026-10-30 16:35:00.000000','call_charge',-525,53153,2,'Estados Unidos',700);
INSERT INTO "ledger_entries" VALUES(158,1,'2026-10-30 21:14:00.000000','call_charge',-1252,51901,4,'Colombia',626);
INSERT INTO "ledger_entries" VALUES(159,1,'2026-10-31 00:16:00.000000','call_charge',-3668,48233,2,'España (celular)',1048);
INSERT INTO "ledger_entries" VALUES(160,1,'2026-10-31 20:38:00.000000','call_charge',-948,47285,1,'Colombia',474);
INSERT INTO "ledger_entries" VALUES(161,1,'2026-10-31 23:33:00.000000','call_charge',-289,46996,1,'Estados Unidos',385);
INSERT INTO "ledger_entries" VALUES(162,1,'2026-10-31 23:53:00.000000','call_charge',-994,46002,1,'España (celular)',284);
INSERT INTO "ledger_entries" VALUES(163,1,'2026-11-02 18:50:00.000000','call_charge',-980,45022,2,'Estados Unidos',1306);
INSERT INTO "ledger_entries" VALUES(164,1,'2026-11-02 19:25:00.000000','call_charge',-1702,43320,2,'Colombia',851);
INSERT INTO "ledger_entries" VALUES(165,1,'2026-11-02 22:35:00.000000','call_charge',-900,42420,4,'Estados Unidos',1200);
INSERT INTO "ledger_entries" VALUES(166,1,'2026-11-03 18:00:00.000000','call_charge',-2443,39977,4,'España (celular)',698);
INSERT INTO "ledger_entries" VALUES(167,1,'2026-11-03 18:42:00.000000','call_charge',-1238,38739,2,'Número premium 900',75);
INSERT INTO "ledger_entries" VALUES(168,1,'2026-11-03 21:13:00.000000','call_charge',-4949,33790,3,'España (celular)',1414);
INSERT INTO "ledger_entries" VALUES(169,1,'2026-11-04 16:42:00.000000','call_charge',-19800,13990,4,'Número premium 900',1200);
INSERT INTO "ledger_entries" VALUES(170,1,'2026-11-04 16:43:00.000000','auto_recharge',50000,63990,NULL,NULL,NULL);
INSERT INTO "ledger_entries" VALUES(171,1,'2026-11-04 17:08:00.000000','call_charge',-62,63928,1,'Estados Unidos',83);
INSERT INTO "ledger_entries" VALUES(172,1,'2026-11-04 20:39:00.000000','call_charge',-366,63562,1,'Guatemala',122);
INSERT INTO "ledger_entries" VALUES(173,1,'2026-11-05 15:11:00.000000','call_charge',-890,62672,3,'Estados Unidos',1187);
INSERT INTO "ledger_entries" VALUES(174,1,'2026-11-05 16:23:00.000000','call_charge',-386,62286,4,'Colombia',193);
INSERT INTO "ledger_entries" VALUES(175,1,'2026-11-05 22:52:00.000000','call_charge',-1074,61212,3,'Estados Unidos',1432);
INSERT INTO "ledger_entries" VALUES(176,1,'2026-11-06 22:09:00.000000','call_charge',-1226,59986,1,'Canadá',1471);
INSERT INTO "ledger_entries" VALUES(177,1,'2026-11-06 22:52:00.000000','call_charge',-1198,58788,1,'Canadá',1437);
INSERT INTO "ledger_entries" VALUES(178,1,'2026-11-06 23:32:00.000000','call_charge',-508,58280,3,'Estados Unidos',677);
INSERT INTO "ledger_entries" VALUES(179,1,'2026-11-07 17:26:00.000000','call_charge',-670,57610,3,'Estados Unidos',893);
INSERT INTO "ledger_entries" VALUES(180,1,'2026-11-07 21:24:00.000000','call_charge',-832,56778,1,'Canadá',998);
INSERT INTO "ledger_entries" VALUES(181,1,'2026-11-07 21:52:00.000000','call_charge',-324,56454,3,'Estados Unidos',432);
INSERT INTO "ledger_entries" VALUES(182,1,'2026-11-09 20:11:00.000000','call_charge',-7904,48550,3,'Número premium 900',479);
INSERT INTO "ledger_entries" VALUES(183,1,'2026-11-09 23:18:00.000000','call_charge',-807,47743,2,'Estados Unidos',1076);
INSERT INTO "ledger_entries" VALUES(184,1,'2026-11-10 00:56:00.000000','call_charge',-737,47006,4,'Canadá',884);
INSERT INTO "ledger_entries" VALUES(185,1,'2026-11-10 17:51:00.000000','call_charge',-341,46665,1,'Estados Unidos',454);
INSERT INTO "ledger_entries" VALUES(186,1,'2026-11-10 18:23:00.000000','call_charge',-224,46441,4,'Canadá',269);
INSERT INTO "ledger_entries" VALUES(187,1,'2026-11-10 23:37:00.000000','call_charge',-21384,25057,4,'Número premium 900',1296);
INSERT INTO "ledger_entries" VALUES(188,1,'2026-11-11 15:27:00.000000','call_charge',-1611,23446,3,'Guatemala',537);
INSERT INTO "ledger_entries" VALUES(189,1,'2026-11-11 16:18:00.000000','call_charge',-124,23322,3,'Canadá',149);
INSERT INTO "ledger_entries" VALUES(190,1,'2026-11-12 00:05:00.000000','call_charge',-1270,22052,3,'Colombia',635);
INSERT INTO "ledger_entries" VALUES(191,1,'2026-11-12 16:13:00.000000','call_charge',-5086,16966,4,'España (celular)',1453);
INSERT INTO "ledger_entries" VALUES(192,1,'2026-11-12 16:14:00.000000','auto_recharge',50000,66966,NULL,NULL,NULL);
INSERT INTO "ledger_entries" VALUES(193,1,'2026-11-12 17:01:00.000000','call_charge',-144,66822,2,'España (celular)',41);
INSERT INTO "ledger_entries" VALUES(194,1,'2026-11-12 19:21:00.000000','call_charge',-18513,48309,2,'Número premium 900',1122);
INSERT INTO "ledger_entries" VALUES(195,1,'2026-11-13 15:42:00.000000','call_charge',-3507,44802,3,'Guatemala',1169);
INSERT INTO "ledger_entries" VALUES(196,1,'2026-11-13 23:23:00.000000','call_charge',-363,44439,2,'Canadá',436);
INSERT INTO "ledger_entries" VALUES(197,1,'2026-11-14 00:08:00.000000','call_charge',-643,43796,2,'Estados Unidos',857);
INSERT INTO "ledger_entries" VALUES(198,1,'2026-11-14 17:24:00.000000','call_charge',-2975,40821,2,'España (celular)',850);
INSERT INTO "ledger_entries" VALUES(199,1,'2026-11-14 18:52:00.000000','call_charge',-828,39993,1,'Estados Unidos',1104);
INSERT INTO "ledger_entries" VALUES(200,1,'2026-11-14 22:53:00.000000','call_charge',-163,39830,1,'Canadá',195);
INSERT INTO "ledger_entries" VALUES(201,1,'2026-11-16 19:33:00.000000','call_charge',-1642,38188,2,'España (celular)',469);
INSERT INTO "ledger_entries" VALUES(202,1,'2026-11-16 20:20:00.000000','call_charge',-1011,37177,2,'Estados Unidos',1348);
INSERT INTO "ledger_entries" VALUES(203,1,'2026-11-16 21:13:00.000000','call_charge',-1102,36075,1,'Colombia',551);
INSERT INTO "ledger_entries" VALUES(204,1,'2026-11-17 18:19:00.000000','call_charge',-353,35722,3,'Estados Unidos',470);
INSERT INTO "ledger_entries" VALUES(205,1,'2026-11-17 19:22:00.000000','call_charge',-38,35684,3,'Canadá',45);
INSERT INTO "ledger_entries" VALUES(206,1,'2026-11-17 20:51:00.000000','call_charge',-821,34863,2,'Estados Unidos',1094);
INSERT INTO "ledger_entries" VALUES(207,1,'2026-11-18 21:45:00.000000','call_charge',-1454,33409,1,'Colombia',727);
INSERT INTO "ledger_entries" VALUES(208,1,'2026-11-18 23:44:00.000000','call_charge',-365,33044,2,'Estados Unidos',487);
INSERT INTO "ledger_entries" VALUES(209,1,'2026-11-19 00:22:00.000000','call_charge',-2373,30671,1,'Guatemala',791);
INSERT INTO "ledger_entries" VALUES(210,1,'2026-11-19 18:02:00.000000','call_charge',-1330,29341,2,'Colombia',665);
INSERT INTO "ledger_entries" VALUES(211,1,'2026-11-19 19:12:00.000000','call_charge',-3222,26119,3,'Guatemala',1074);
INSERT INTO "ledger_entries" VALUES(212,1,'2026-11-19 19:14:00.000000','call_charge',-1182,24937,1,'Colombia',591);
INSERT INTO "ledger_entries" VALUES(213,1,'2026-11-20 15:23:00.000000','call_charge',-9537,15400,4,'Número premium 900',578);
INSERT INTO "ledger_entries" VALUES(214,1,'2026-11-20 15:24:00.000000','auto_recharge',50000,65400,NULL,NULL,NULL);
INSERT INTO "ledger_entries" VALUES(215,1,'2026-11-20 16:23:00.000000','call_charge',-3246,62154,3,'Guatemala',1082);
INSERT INTO "ledger_entries" VALUES(216,1,'2026-11-20 17:57:00.000000','call_charge',-852,61302,1,'Estados Unidos',1136);
INSERT INTO "ledger_entries" VALUES(217,1,'2026-11-21 16:22:00.000000','call_charge',-334,60968,2,'Estados Unidos',445);
INSERT INTO "ledger_entries" VALUES(218,1,'2026-11-21 18:56:00.000000','call_charge',-5054,55914,2,'España (celular)',1444);
INSERT INTO "ledger_entries" VALUES(219,1,'2026-11-21 23:02:00.000000','call_charge',-2642,53272,3,'Colombia',1321);
INSERT INTO "ledger_entries" VALUES(220,1,'2026-11-23 17:37:00.000000','call_charge',-294,52978,3,'Guatemala',98);
INSERT INTO "ledger_entries" VALUES(221,1,'2026-11-23 18:29:00.000000','call_charge',-890,52088,2,'Canadá',1068);
INSERT INTO "ledger_entries" VALUES(222,1,'2026-11-23 19:23:00.000000','call_charge',-440,51648,2,'Estados Unidos',587);
INSERT INTO "ledger_entries" VALUES(223,1,'2026-11-24 15:11:00.000000','call_charge',-4879,46769,1,'España (celular)',1394);
INSERT INTO "ledger_entries" VALUES(224,1,'2026-11-24 15:48:00.000000','call_charge',-1082,45687,1,'Estados Unidos',1443);
INSERT INTO "ledger_entries" VALUES(225,1,'2026-11-25 00:49:00.000000','call_charge',-3570,42117,4,'Guatemala',1190);
INSERT INTO "ledger_entries" VALUES(226,1,'2026-11-25 17:05:00.000000','call_charge',-1554,40563,3,'Colombia',777);
INSERT INTO "ledger_entries" VALUES(227,1,'2026-11-25 18:15:00.000000','call_charge',-505,40058,3,'Estados Unidos',673);
INSERT INTO "ledger_entries" VALUES(228,1,'2026-11-25 19:59:00.000000','call_charge',-796,39262,2,'Estados Unidos',1061);
INSERT INTO "ledger_entries" VALUES(229,1,'2026-11-26 16:00:00.000000','call_charge',-14801,24461,2,'Número premium 900',897);
INSERT INTO "ledger_entries" VALUES(230,1,'2026-11-26 16:47:00.000000','call_charge',-344,24117,1,'Estados Unidos',459);
INSERT INTO "ledger_entries" VALUES(231,1,'2026-11-26 21:28:00.000000','call_charge',-317,23800,2,'Estados Unidos',422);
INSERT INTO "ledger_entries" VALUES(232,1,'2026-11-27 20:24:00.000000','call_charge',-750,23050,2,'Guatemala',250);
INSERT INTO "ledger_entries" VALUES(233,1,'2026-11-28 00:28:00.000000','call_charge',-1123,21927,3,'Canadá',1347);
INSERT INTO "ledger_entries" VALUES(234,1,'2026-11-28 00:51:00.000000','call_charge',-1488,20439,2,'Colombia',744);
INSERT INTO "ledger_entries" VALUES(235,1,'2026-11-28 15:35:00.000000','call_charge',-3955,16484,2,'España (celular)',1130);
INSERT INTO "ledger_entries" VALUES(236,1,'2026-11-28 15:36:00.000000','auto_recharge',50000,66484,NULL,NULL,NULL);
INSERT INTO "ledger_entries" VALUES(237,1,'2026-11-28 21:47:00.000000','call_charge',-433,66051,1,'Estados Unidos',577);
INSERT INTO "ledger_entries" VALUES(238,1,'2026-11-29 00:39:00.000000','call_charge',-785,65266,1,'Estados Unidos',1046);
INSERT INTO "ledger_entries" VALUES(239,1,'2026-11-30 15:24:00.000000','call_charge',-2240,63026,1,'Colombia',1120);
INSERT INTO "ledger_entries" VALUES(240,1,'2026-11-30 19:04:00.000000','call_charge',-292,62734,1,'Colombia',146);
INSERT INTO "ledger_entries" VALUES(241,1,'2026-11-30 19:56:00.000000','call_charge',-2862,59872,1,'Guatemala',954);
INSERT INTO "ledger_entries" VALUES(242,2,'2026-09-02 15:00:00.000000','deposit',80000,80000,NULL,NULL,NULL);
INSERT INTO "ledger_entries" VALUES(243,2,'2026-09-02 15:05:00.000000','call_charge',-1118,78882,5,'Canadá',1342);
INSERT INTO "ledger_entries" VALUES(244,2,'2026-09-03 19:22:00.000000','call_charge',-4393,74489,5,'España (celular)',1255);
INSERT INTO "ledger_entries" VALUES(245,2,'2026-09-04 17:00:00.000000','call_charge',-809,73680,6,'Estados Unidos',1079);
INSERT INTO "ledger_entries" VALUES(246,2,'2026-09-05 16:22:00.000000','call_charge',-580,73100,6,'Estados Unidos',773);
INSERT INTO "ledger_entries" VALUES(247,2,'2026-09-07 15:32:00.000000','call_charge',-323,72777,6,'Canadá',388);
INSERT INTO "ledger_entries" VALUES(248,2,'2026-09-08 21:19:00.000000','call_charge',-2184,70593,6,'Colombia',1092);
INSERT INTO "ledger_entries" VALUES(249,2,'2026-09-09 15:47:00.000000','call_charge',-49,70544,6,'Canadá',59);
INSERT INTO "ledger_entries" VALUES(250,2,'2026-09-10 21:03:00.000000','call_charge',-3477,67067,6,'Guatemala',1159);
INSERT INTO "ledger_entries" VALUES(251,2,'2026-09-11 15:26:00.000000','call_charge',-20130,46937,6,'Número premium 900',1220);
INSERT INTO "ledger_entries" VALUES(252,2,'2026-09-12 19:32:00.000000','call_charge',-2664,44273,6,'España (celular)',761);
INSERT INTO "ledger_entries" VALUES(253,2,'2026-09-14 15:45:00.000000','call_charge',-1107,43166,6,'Estados Unidos',1476);
INSERT INTO "ledger_entries" VALUES(254,2,'2026-09-15 22:06:00.000000','call_charge',-167,42999,5,'Canadá',200);
INSERT INTO "ledger_entries" VALUES(255,2,'2026-09-16 18:25:00.000000','call_charge',-95,42904,6,'Estados Unidos',127);
INSERT INTO "ledger_entries" VALUES(256,2,'2026-09-17 17:34:00.000000','call_charge',-1078,41826,6,'Estados Unidos',1437);
INSERT INTO "ledger_entries" VALUES(257,2,'2026-09-18 19:41:00.000000','call_charge',-85,41741,5,'Estados Unidos',113);
INSERT INTO "ledger_entries" VALUES(258,2,'2026-09-19 19:17:00.000000','call_charge',-558,41183,6,'Canadá',670);
INSERT INTO "ledger_entries" VALUES(259,2,'2026-09-21 20:33:00.000000','call_charge',-1788,39395,5,'Colombia',894);
INSERT INTO "ledger_entries" VALUES(260,2,'2026-09-22 23:53:00.000000','call_charge',-2282,37113,5,'Colombia',1141);
INSERT INTO "ledger_entries" VALUES(261,2,'2026-09-23 15:09:00.000000','call_charge',-4422,32691,5,'Guatemala',1474);
INSERT INTO "ledger_entries" VALUES(262,2,'2026-09-24 15:40:00.000000','call_charge',-603,32088,6,'Canadá',723);
INSERT INTO "ledger_entries" VALUES(263,2,'2026-09-25 22:06:00.000000','call_charge',-1646,30442,6,'Colombia',823);
INSERT INTO "ledger_entries" VALUES(264,2,'2026-09-27 00:58:00.000000','call_charge',-4341,26101,6,'Guatemala',1447);
INSERT INTO "ledger_entries" VALUES(265,2,'2026-09-28 15:29:00.000000','call_charge',-522,25579,5,'Canadá',626);
INSERT INTO "ledger_entries" VALUES(266,2,'2026-09-29 17:40:00.000000','call_charge',-478,25101,5,'Estados Unidos',637);
INSERT INTO "ledger_entries" VALUES(267,2,'2026-09-30 19:03:00.000000','call_charge',-23001,2100,5,'Número premium 900',1394);
INSERT INTO "ledger_entries" VALUES(268,2,'2026-10-01 21:22:00.000000','call_charge',-657,1443,5,'Estados Unidos',876);
INSERT INTO "ledger_entries" VALUES(269,2,'2026-10-02 01:30:00.000000','deposit',30000,31443,NULL,NULL,NULL);
INSERT INTO "ledger_entries" VALUES(270,2,'2026-10-02 18:15:00.000000','call_charge',-2502,28941,5,'Guatemala',834);
INSERT INTO "ledger_entries" VALUES(271,2,'2026-10-03 23:05:00.000000','call_charge',-3555,25386,6,'Guatemala',1185);
INSERT INTO "ledger_entries" VALUES(272,2,'2026-10-05 21:06:00.000000','call_charge',-1572,23814,6,'Colombia',786);
INSERT INTO "ledger_entries" VALUES(273,2,'2026-10-06 19:02:00.000000','call_charge',-1272,22542,5,'Guatemala',424);
INSERT INTO "ledger_entries" VALUES(274,2,'2026-10-07 17:59:00.000000','call_charge',-2205,20337,5,'Guatemala',735);
INSERT INTO "ledger_entries" VALUES(275,2,'2026-10-08 21:05:00.000000','call_charge',-3126,17211,5,'Guatemala',1042);
INSERT INTO "ledger_entries" VALUES(276,2,'2026-10-09 21:16:00.000000','call_charge',-2338,14873,5,'Colombia',1169);
INSERT INTO "ledger_entries" VALUES(277,2,'2026-10-10 16:16:00.000000','call_charge',-515,14358,5,'Estados Unidos',687);
INSERT INTO "ledger_entries" VALUES(278,2,'2026-10-12 22:51:00.000000','call_charge',-2676,11682,6,'Colombia',1338);
INSERT INTO "ledger_entries" VALUES(279,2,'2026-10-13 19:39:00.000000','call_charge',-114,11568,5,'Colombia',57);
INSERT INTO "ledger_entries" VALUES(280,2,'2026-10-14 20:12:00.000000','call_charge',-587,10981,6,'Estados Unidos',783);
INSERT INTO "ledger_entries" VALUES(281,2,'2026-10-15 18:42:00.000000','call_charge',-1085,9896,6,'Estados Unidos',1447);
INSERT INTO "ledger_entries" VALUES(282,2,'2026-10-16 15:45:00.000000','call_charge',-1960,7936,5,'Colombia',980);
INSERT INTO "ledger_entries" VALUES(283,2,'2026-10-19 15:18:00.000000','call_charge',-73,7863,5,'Canadá',87);
INSERT INTO "ledger_entries" VALUES(284,2,'2026-10-20 15:59:00.000000','call_charge',-556,7307,5,'Estados Unidos',741);
INSERT INTO "ledger_entries" VALUES(285,2,'2026-10-21 19:36:00.000000','call_charge',-560,6747,5,'Estados Unidos',746);
INSERT INTO "ledger_entries" VALUES(286,2,'2026-10-22 22:36:00.000000','call_charge',-1088,5659,6,'Estados Unidos',1450);
INSERT INTO "ledger_entries" VALUES(287,2,'2026-10-23 15:08:00.000000','call_charge',-1166,4493,6,'Colombia',583);
INSERT INTO "ledger_entries" VALUES(288,2,'2026-10-24 15:53:00.000000','call_charge',-1029,3464,5,'Guatemala',343);
INSERT INTO "ledger_entries" VALUES(289,2,'2026-10-26 15:39:00.000000','call_charge',-26,3438,5,'Estados Unidos',34);
INSERT INTO "ledger_entries" VALUES(290,2,'2026-10-27 22:57:00.000000','call_charge',-489,2949,5,'Canadá',587);
INSERT INTO "ledger_entries" VALUES(291,2,'2026-10-28 16:28:00.000000','call_charge',-1005,1944,6,'Guatemala',335);
INSERT INTO "ledger_entries" VALUES(292,2,'2026-10-29 21:24:00.000000','call_charge',-933,1011,6,'Guatemala',311);
INSERT INTO "ledger_entries" VALUES(293,2,'2026-10-30 16:01:00.000000','call_charge',-250,761,5,'Estados Unidos',333);
INSERT INTO "ledger_entries" VALUES(294,2,'2026-11-01 01:30:00.000000','deposit',30000,30761,NULL,NULL,NULL);
INSERT INTO "ledger_entries" VALUES(295,2,'2026-11-02 23:14:00.000000','call_charge',-305,30456,5,'Canadá',366);
INSERT INTO "ledger_entries" VALUES(296,2,'2026-11-03 20:07:00.000000','call_charge',-1726,28730,6,'Colombia',863);
INSERT INTO "ledger_entries" VALUES(297,2,'2026-11-04 16:01:00.000000','call_charge',-786,27944,6,'Canadá',943);
INSERT INTO "ledger_entries" VALUES(298,2,'2026-11-05 21:37:00.000000','call_charge',-2103,25841,6,'Guatemala',701);
INSERT INTO "ledger_entries" VALUES(299,2,'2026-11-06 17:21:00.000000','call_charge',-1108,24733,6,'Estados Unidos',1477);
INSERT INTO "ledger_entries" VALUES(300,2,'2026-11-07 18:23:00.000000','call_charge',-87,24646,5,'Estados Unidos',116);
INSERT INTO "ledger_entries" VALUES(301,2,'2026-11-09 17:51:00.000000','call_charge',-198,24448,5,'Canadá',238);
INSERT INTO "ledger_entries" VALUES(302,2,'2026-11-10 17:32:00.000000','call_charge',-1327,23121,6,'España (celular)',379);
INSERT INTO "ledger_entries" VALUES(303,2,'2026-11-11 21:01:00.000000','call_charge',-4125,18996,6,'Número premium 900',250);
INSERT INTO "ledger_entries" VALUES(304,2,'2026-11-12 18:14:00.000000','call_charge',-3285,15711,5,'Guatemala',1095);
INSERT INTO "ledger_entries" VALUES(305,2,'2026-11-13 19:41:00.000000','call_charge',-737,14974,6,'Estados Unidos',983);
INSERT INTO "ledger_entries" VALUES(306,2,'2026-11-14 23:52:00.000000','call_charge',-2739,12235,5,'Guatemala',913);
INSERT INTO "ledger_entries" VALUES(307,2,'2026-11-16 20:41:00.000000','call_charge',-674,11561,5,'Estados Unidos',899);
INSERT INTO "ledger_entries" VALUES(308,2,'2026-11-17 15:44:00.000000','call_charge',-550,11011,5,'España (celular)',157);
INSERT INTO "ledger_entries" VALUES(309,2,'2026-11-18 17:42:00.000000','call_charge',-3455,7556,6,'España (celular)',987);
INSERT INTO "ledger_entries" VALUES(310,2,'2026-11-19 20:19:00.000000','call_charge',-1088,6468,5,'Colombia',544);
INSERT INTO "ledger_entries" VALUES(311,2,'2026-11-21 00:18:00.000000','call_charge',-186,6282,6,'Estados Unidos',248);
INSERT INTO "ledger_entries" VALUES(312,2,'2026-11-21 15:17:00.000000','call_charge',-983,5299,6,'Estados Unidos',1310);
INSERT INTO "ledger_entries" VALUES(313,2,'2026-11-23 18:35:00.000000','call_charge',-891,4408,5,'Canadá',1069);
INSERT INTO "ledger_entries" VALUES(314,2,'2026-11-24 20:50:00.000000','call_charge',-45,4363,5,'Canadá',54);
INSERT INTO "ledger_entries" VALUES(315,2,'2026-11-25 23:33:00.000000','call_charge',-3406,957,6,'España (celular)',973);
INSERT INTO "ledger_entries" VALUES(316,2,'2026-11-26 18:48:00.000000','call_charge',-795,162,5,'Canadá',954);
INSERT INTO "ledger_entries" VALUES(317,2,'2026-12-01 01:30:00.000000','deposit',30000,30162,NULL,NULL,NULL);
CREATE TABLE link_guards (
	"key" VARCHAR(160) NOT NULL, 
	failures INTEGER NOT NULL, 
	locked_until DATETIME, 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY ("key")
);
INSERT INTO "link_guards" VALUES('link_guards-key',7,'2026-11-30 15:04:05.000000','2026-11-30 15:04:05.000000');
CREATE TABLE recharge_failures (
	id INTEGER NOT NULL, 
	account_id INTEGER NOT NULL, 
	occurred_at DATETIME NOT NULL, 
	amount BIGINT NOT NULL, 
	reason VARCHAR(120) NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(account_id) REFERENCES accounts (id) ON DELETE CASCADE
);
INSERT INTO "recharge_failures" VALUES(1,1,'2026-11-24 14:00:00.000000',50000,'tarjeta rechazada por el banco');
CREATE TABLE staff_sessions (
	token_hash VARCHAR(64) NOT NULL, 
	staff_id INTEGER NOT NULL, 
	csrf VARCHAR(64) NOT NULL, 
	created_at DATETIME NOT NULL, 
	expires_at DATETIME NOT NULL, 
	PRIMARY KEY (token_hash), 
	FOREIGN KEY(staff_id) REFERENCES staff_users (id) ON DELETE CASCADE
);
INSERT INTO "staff_sessions" VALUES('staff_sessions-token_hash',7,'staff_sessions-csrf','2026-11-30 15:04:05.000000','2026-11-30 15:04:05.000000');
CREATE TABLE staff_users (
	id INTEGER NOT NULL, 
	username VARCHAR(60) NOT NULL, 
	display_name VARCHAR(80) NOT NULL, 
	password_hash VARCHAR(200) NOT NULL, 
	active BOOLEAN NOT NULL, 
	failed_logins INTEGER NOT NULL, 
	locked_until DATETIME, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (username)
);
INSERT INTO "staff_users" VALUES(7,'staff_users-username','staff_users-display_name','staff_users-password_hash',1,7,'2026-11-30 15:04:05.000000','2026-11-30 15:04:05.000000');
CREATE TABLE support_cases (
	id INTEGER NOT NULL, 
	conversation_id VARCHAR(128) NOT NULL, 
	channel VARCHAR(30) NOT NULL, 
	channel_user VARCHAR(120), 
	account VARCHAR(20), 
	reason VARCHAR(20) NOT NULL, 
	description TEXT, 
	status VARCHAR(10) NOT NULL, 
	agent_id INTEGER, 
	opened_at DATETIME NOT NULL, 
	taken_at DATETIME, 
	closed_at DATETIME, 
	updated_at DATETIME NOT NULL, 
	desk_ref VARCHAR(64), 
	PRIMARY KEY (id), 
	FOREIGN KEY(agent_id) REFERENCES staff_users (id)
);
INSERT INTO "support_cases" VALUES(7,'support_cases-conversation_id','support_cases-channel','support_cases-channel_user','support_cases-accoun','support_cases-reason','support_cases-description','waiting',7,'2026-11-30 15:04:05.000000','2026-11-30 15:04:05.000000','2026-11-30 15:04:05.000000','2026-11-30 15:04:05.000000','support_cases-desk_ref');
CREATE INDEX ix_deliveries_received_at ON deliveries (received_at);
CREATE INDEX ix_insight_turns_day_channel ON insight_turns (day, channel);
CREATE INDEX ix_insight_turns_sender ON insight_turns (sender_id, event_id);
CREATE INDEX ix_alert_subscriptions_account ON alert_subscriptions (account);
CREATE INDEX ix_recharge_failures_account_time ON recharge_failures (account_id, occurred_at);
CREATE INDEX ix_channel_links_account_id ON channel_links (account_id);
CREATE INDEX ix_support_cases_desk_ref ON support_cases (desk_ref);
CREATE INDEX ix_cases_conversation_status ON support_cases (conversation_id, status);
CREATE INDEX ix_cases_status_opened ON support_cases (status, opened_at);
CREATE INDEX ix_staff_sessions_staff_id ON staff_sessions (staff_id);
CREATE INDEX ix_alert_outbox_visit ON alert_outbox (account, status);
CREATE INDEX ix_alert_outbox_due ON alert_outbox (status, next_attempt_at);
CREATE INDEX ix_ledger_account_time ON ledger_entries (account_id, occurred_at, id);
CREATE INDEX ix_ledger_account_ext_time ON ledger_entries (account_id, extension_id, occurred_at);
CREATE INDEX ix_case_messages_case_id ON case_messages (case_id);
CREATE INDEX ix_case_messages_delivery ON case_messages (delivery, case_id);
COMMIT;
