/*
 * gw_demo: "twcgw --demo". Runs the real gateway bus code against an in-process simulator of three
 * TWC slaves over a socketpair, follows a scripted scenario of cars arriving and leaving in
 * simulated time, and prints a table of who gets how much current, then a verdict. With an OCPP URL
 * the same cars are also connectors of a charge point "twcgw-demo" on that central system, and the
 * central system decides who charges.
 */
#ifndef GW_DEMO_H
#define GW_DEMO_H

/**
 * gw_demo_run() - run the demo to its end.
 * @speed: simulated seconds per real second (> 0).
 * @ocpp_url: NULL, or a checked ws:// / wss:// URL of a central system (security profile 0, idTag
 *            "DEMO" for every car, nothing kept on disk).
 * Return: the process exit code: 0 when the demo passed, 1 if the sum of limits in force ever
 * exceeded the available current or another check failed, 130 if interrupted; GW_LOOP_RESTART if
 * the central system asked for a Reset.
 */
int gw_demo_run(double speed, const char *ocpp_url);

#endif
