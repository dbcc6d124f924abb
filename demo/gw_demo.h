/*
 * gw_demo: "twcgw --demo". Runs the real gateway bus code against an in-process simulator of TWC
 * slaves over a socketpair and prints what happens in simulated time, then a verdict. Two scenarios:
 *   solar (the default): one car on one TWC through a sped-up cloudy day of synthetic PV and house
 *          load; the policy engine in track-green mode charges it from the solar surplus only.
 *   share: three cars arrive and leave and share 40 A. With an OCPP URL the same cars are also
 *          connectors of a charge point "twcgw-demo" on that central system, and the central
 *          system decides who charges.
 */
#ifndef GW_DEMO_H
#define GW_DEMO_H

enum gw_demo_scenario {
	GW_DEMO_SOLAR = 0,
	GW_DEMO_SHARE,
};

/* "solar" and "share" to the scenario, -1 for any other name. */
int gw_demo_scenario_from_name(const char *name);

/**
 * gw_demo_run() - run a demo to its end.
 * @scenario: which one.
 * @speed: simulated gateway seconds per real second (> 0), or 0 for the scenario's default (solar 15,
 *         so the day takes a minute; share 4).
 * @ocpp_url: share only: NULL, or a checked ws:// / wss:// URL of a central system (security profile
 *            0, idTag "DEMO" for every car, nothing kept on disk). Must be NULL for solar.
 * Return: the process exit code: 0 when the demo passed, 1 if a check failed (share: the sum of limits
 * in force exceeded the available current, a slave was not found, ...; solar: the same limit check,
 * too little charged, too little of it from solar, or charging flapped), 130 if interrupted;
 * GW_LOOP_RESTART if the central system asked for a Reset.
 * @http: serve the status page there ("127.0.0.1:8080", a free port if that one is busy; port 0 any
 *        free port) and print its URL; NULL for none.
 */
int gw_demo_run(enum gw_demo_scenario scenario, double speed, const char *ocpp_url, const char *http);

#endif
