/* cmd_users.h - operator commands: create-admin, create-user. */
#ifndef BP_CMD_USERS_H
#define BP_CMD_USERS_H

/*
 * blogposter create-admin --email EMAIL < password
 * blogposter create-user --email EMAIL < password
 * Exit status: 0 done, 1 refused or failed (message on stderr), 2 usage.
 */
int cmd_create_admin(int argc, char **argv);
int cmd_create_user(int argc, char **argv);

#endif
